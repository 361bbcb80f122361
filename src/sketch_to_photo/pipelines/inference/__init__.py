"""inference: a folder of sketches -> one photo each, a results table and a contact sheet."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
