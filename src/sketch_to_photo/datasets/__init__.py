"""Project-level Kedro datasets (kedro-datasets has no NumPy npz, raw-bytes or atomic-save
dataset)."""

from .atomic_dataset import AtomicDataset
from .file_bytes_dataset import FileBytesDataset
from .npz_shards_dataset import LazyNpz, NpzShardsDataset, ResumableShard
from .registered_service_dataset import RegisteredServiceDataset

__all__ = [
    "AtomicDataset",
    "FileBytesDataset",
    "LazyNpz",
    "NpzShardsDataset",
    "RegisteredServiceDataset",
    "ResumableShard",
]
