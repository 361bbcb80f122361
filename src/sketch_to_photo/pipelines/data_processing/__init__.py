"""Index, filter, segment, split and save Sketchy sketch/photo pairs as npz shards."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
