"""Train, evaluate and register the VGG16 sketch classifier that names a sketch's category."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
