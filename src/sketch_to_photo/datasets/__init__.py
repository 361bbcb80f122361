"""Project-level Kedro datasets (kedro-datasets has no NumPy npz dataset)."""

from .npz_shards_dataset import LazyNpz, NpzShardsDataset

__all__ = ["LazyNpz", "NpzShardsDataset"]
