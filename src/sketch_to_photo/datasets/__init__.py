"""Project-level Kedro datasets (kedro-datasets has no NumPy npz, raw-bytes, atomic-save or
Sketchy-tree dataset)."""

from .atomic_dataset import AtomicDataset
from .file_bytes_dataset import FileBytesDataset
from .npz_shards_dataset import LazyNpz, NpzShardsDataset, ResumableShard, ShardLoaders
from .registered_service_dataset import RegisteredServiceDataset
from .sketch_folder_dataset import SketchFolderDataset
from .sketchy_tree_dataset import SketchyTree, SketchyTreeDataset

__all__ = [
    "AtomicDataset",
    "FileBytesDataset",
    "LazyNpz",
    "NpzShardsDataset",
    "RegisteredServiceDataset",
    "ResumableShard",
    "SketchFolderDataset",
    "ShardLoaders",
    "SketchyTree",
    "SketchyTreeDataset",
]
