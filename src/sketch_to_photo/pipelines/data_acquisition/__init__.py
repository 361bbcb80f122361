"""Make the raw Sketchy tree available: generate it, download it, or take a local copy."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
