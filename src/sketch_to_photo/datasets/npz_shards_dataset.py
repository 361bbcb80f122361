"""A folder of ``.npz`` shards as one Kedro dataset.

Saving takes ``{shard_name: arrays}`` where ``arrays`` is a dict of NumPy arrays or a
zero-argument callable returning one (computed only when written, so a whole dataset never
has to sit in memory). Shard names may contain ``/`` (``train/teapot-00000``) for
sub-folders. All shards are written into a temporary folder that replaces the previous one
only when every shard is complete: a failed run leaves the old set intact.

Loading gives ``{shard_name: callable}``; each callable returns a :class:`LazyNpz`, a
read-only mapping that reads an array from disk only when it is accessed, so counting ids
does not decode any images.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from kedro.io.core import AbstractDataset, DatasetError

from sketch_to_photo.utils.atomic import atomic_directory

ShardArrays = Mapping[str, np.ndarray]
ShardsToSave = Mapping[str, ShardArrays | Callable[[], ShardArrays]]


class LazyNpz(Mapping[str, np.ndarray]):
    """Read-only view of one ``.npz`` file that loads each array on access."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with zipfile.ZipFile(self.path) as archive:
            self._keys = tuple(name.removesuffix(".npy") for name in archive.namelist())

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self._keys:
            raise KeyError(f"{key!r} is not in {self.path} (keys: {', '.join(self._keys)})")
        with np.load(self.path, allow_pickle=False) as npz:
            return npz[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"LazyNpz({str(self.path)!r}, keys={list(self._keys)})"


class NpzShardsDataset(AbstractDataset[ShardsToSave, dict[str, Callable[[], LazyNpz]]]):
    """A folder of ``<shard_name>.npz`` files on the local filesystem.

    Example catalog entry::

        pair_shards:
          type: sketch_to_photo.datasets.NpzShardsDataset
          path: data/05_model_input/pairs
          compress: true
    """

    SUFFIX = ".npz"

    def __init__(
        self,
        *,
        path: str,
        compress: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._path = Path(path)
        self._compress = compress
        self.metadata = metadata

    def load(self) -> dict[str, Callable[[], LazyNpz]]:
        if not self._path.is_dir():
            raise DatasetError(
                f"No npz shards at {self._path}: run the pipeline that writes them first "
                "(for the pairs: `kedro run --pipelines data_processing`)."
            )
        shards: dict[str, Callable[[], LazyNpz]] = {}
        for file in sorted(self._path.rglob(f"*{self.SUFFIX}")):
            name = file.relative_to(self._path).as_posix().removesuffix(self.SUFFIX)
            shards[name] = lambda file=file: LazyNpz(file)
        return shards

    def save(self, data: ShardsToSave) -> None:
        for name in data:
            _check_shard_name(name)
        write = np.savez_compressed if self._compress else np.savez
        with atomic_directory(self._path) as tmp:
            for name, value in sorted(data.items()):
                arrays = value() if callable(value) else value
                _check_arrays(name, arrays)
                file = tmp / f"{name}{self.SUFFIX}"
                file.parent.mkdir(parents=True, exist_ok=True)
                write(file, **arrays)

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "compress": self._compress}


def _check_shard_name(name: str) -> None:
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or ".." in parts or "\\" in name:
        raise DatasetError(
            f"Invalid shard name {name!r}: use relative names like 'train/teapot-00000'."
        )


def _check_arrays(name: str, arrays: ShardArrays) -> None:
    # Object arrays would need pickle to load back, which LazyNpz refuses for safety.
    for key, value in arrays.items():
        if not isinstance(value, np.ndarray) or value.dtype == object:
            raise DatasetError(
                f"Shard {name!r}: {key!r} must be a NumPy array of a plain dtype "
                f"(got {type(value).__name__}{'' if not isinstance(value, np.ndarray) else ' of dtype object'}); "
                "store strings as np.str_ arrays."
            )
