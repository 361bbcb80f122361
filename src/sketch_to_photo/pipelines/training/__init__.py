"""Train the pix2pix generator on the npz pair shards."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
