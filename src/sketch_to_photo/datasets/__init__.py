"""Project-level Kedro datasets (kedro-datasets has no NumPy npz or raw-bytes dataset)."""

from .file_bytes_dataset import FileBytesDataset
from .npz_shards_dataset import LazyNpz, NpzShardsDataset, ResumableShard
from .registered_service_dataset import RegisteredServiceDataset

__all__ = [
    "FileBytesDataset",
    "LazyNpz",
    "NpzShardsDataset",
    "RegisteredServiceDataset",
    "ResumableShard",
]
