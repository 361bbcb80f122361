"""Evaluate the trained generator on the test split, register it, move `champion` on merit."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
