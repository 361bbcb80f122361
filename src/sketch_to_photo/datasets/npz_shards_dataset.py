"""A folder of ``.npz`` shards as one Kedro dataset.

Saving takes ``{shard_name: arrays}`` where ``arrays`` is a dict of NumPy arrays or a
zero-argument callable returning one (computed only when written, so a whole dataset never
has to sit in memory). Shard names may contain ``/`` (``train/teapot-00000``) for
sub-folders. All shards are written into a temporary folder that replaces the previous one
only when every shard is complete: a failed run leaves the old set intact.

Loading gives ``{shard_name: callable}``; each callable returns a :class:`LazyNpz`, a
read-only mapping that reads an array from disk only when it is accessed (``length`` reads
just an array's header, so counting pairs decodes no images). The folder walk, the shard
names and the lazy loaders are kedro-datasets' ``PartitionedDataset`` (one ``.npz`` file per
partition).

Long work resumes: a shard given as a :class:`ResumableShard` carries a fingerprint of
everything it is computed from (inputs and settings). Each one is written, as soon as it is
computed, to a staging folder beside the dataset (``.<folder>.partial/``) that survives a
crash; the next save takes it from there, or from the current folder when the fingerprint
is unchanged (recorded in ``<folder>/.fingerprints.json``), instead of computing it again.
Changed inputs or settings change the fingerprint of exactly the shards they touch. The
staging folder is removed once the new folder is in place.

Why it is not a ``PartitionedDataset`` (it only loads through one): what it adds is all in
saving, and saving is where they differ. ``PartitionedDataset`` writes partitions in place,
one after another (``overwrite`` first deletes the folder), so a failure leaves a mix of old
and new or nothing; this dataset replaces the whole folder atomically, stages and reuses
resumable shards by fingerprint, and hard-links unchanged ones, which needs a local
filesystem, where ``PartitionedDataset`` promises any fsspec protocol. A subclass would
override its ``save`` entirely and refuse its ``dataset``, ``overwrite`` and ``credentials``
arguments. The fingerprints are per shard, so they are attached to its loaders here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from kedro.io.core import AbstractDataset, DatasetError
from kedro_datasets.partitions import PartitionedDataset

from sketch_to_photo.utils.atomic import OutputNotWrittenError, atomic_directory, atomic_file

logger = logging.getLogger(__name__)

ShardArrays = Mapping[str, np.ndarray]
FINGERPRINTS = ".fingerprints.json"


@dataclass(frozen=True)
class ResumableShard:
    """A shard computed only when saved, and kept across a crash under ``fingerprint``: a
    digest of everything ``compute`` reads (input files, settings), so an equal fingerprint
    means an equal result."""

    fingerprint: str
    compute: Callable[[], ShardArrays]

    def __call__(self) -> ShardArrays:
        return self.compute()


ShardsToSave = Mapping[str, ShardArrays | Callable[[], ShardArrays] | ResumableShard]


class LazyNpz(Mapping[str, np.ndarray]):
    """Read-only view of one ``.npz`` file that loads each array on access."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # of a ResumableShard, what it was computed from: set by NpzShardsDataset.load
        self.fingerprint: str | None = None
        with zipfile.ZipFile(self.path) as archive:
            self._keys = tuple(name.removesuffix(".npy") for name in archive.namelist())

    def __getitem__(self, key: str) -> np.ndarray:
        self._check_key(key)
        with np.load(self.path, allow_pickle=False) as npz:
            return npz[key]

    def length(self, key: str) -> int:
        """Length of one array, read from its header (nothing is decompressed)."""
        self._check_key(key)
        with zipfile.ZipFile(self.path) as archive, archive.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, _, _ = np.lib.format.read_array_header_1_0(member)
            else:
                shape, _, _ = np.lib.format.read_array_header_2_0(member)
        return int(shape[0])

    @property
    def version(self) -> str:
        """What changes with the shard's content: the fingerprint it was computed from, else
        (a shard saved without one) its file's size and modification time."""
        if self.fingerprint is not None:
            return self.fingerprint
        stat = self.path.stat()
        return f"{stat.st_size}|{stat.st_mtime_ns}"

    def _check_key(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(f"{key!r} is not in {self.path} (keys: {', '.join(self._keys)})")

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"LazyNpz({str(self.path)!r}, keys={list(self._keys)})"


# What NpzShardsDataset.load returns: shard name -> loader of that shard, in folder order.
ShardLoaders = Mapping[str, Callable[[], LazyNpz]]


class _NpzFile(AbstractDataset[None, LazyNpz]):
    """One shard file as a :class:`LazyNpz`: the partitions' member dataset, load only (shards
    are written all together by :class:`NpzShardsDataset`)."""

    def __init__(self, filepath: str) -> None:
        self._filepath = filepath

    def load(self) -> LazyNpz:
        return LazyNpz(self._filepath)

    def save(self, data: None) -> None:
        raise DatasetError("Save npz shards through NpzShardsDataset, all of them together.")

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath}


def _with_fingerprint(load: Callable[[], LazyNpz], fingerprint: str | None) -> LazyNpz:
    shard = load()
    shard.fingerprint = fingerprint
    return shard


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
        partitions = PartitionedDataset(
            path=str(self._path), dataset=_NpzFile, filename_suffix=self.SUFFIX
        )
        try:
            shards = partitions.load()
        except DatasetError:  # an empty folder: a dataset of no shards
            return {}
        fingerprints = _read_fingerprints(self._path)
        return {
            name: partial(_with_fingerprint, shards[name], fingerprints.get(name))
            for name in sorted(shards, key=lambda name: PurePosixPath(name).parts)  # by folder
        }

    @property
    def _staging(self) -> Path:
        return self._path.parent / f".{self._path.name}.partial"

    def save(self, data: ShardsToSave) -> None:
        for name in data:
            _check_shard_name(name)
        previous = _read_fingerprints(self._path) if self._path.is_dir() else {}
        fingerprints, reused = {}, []
        name = ""
        try:
            with atomic_directory(self._path) as tmp:
                for name, value in sorted(data.items()):
                    file = tmp / f"{name}{self.SUFFIX}"
                    file.parent.mkdir(parents=True, exist_ok=True)
                    if isinstance(value, ResumableShard):
                        fingerprints[name] = value.fingerprint
                        if self._reuse(name, value.fingerprint, previous, file):
                            reused.append(name)
                            continue
                        kept = self._staging / f"{name}.{value.fingerprint}{self.SUFFIX}"
                        for older in kept.parent.glob(f"{PurePosixPath(name).name}.*{self.SUFFIX}"):
                            older.unlink()  # the same shard from other inputs or settings
                        self._write(name, value.compute(), kept)
                        _link_or_copy(kept, file)
                    else:
                        self._write(name, value() if callable(value) else value, file)
                if fingerprints:
                    (tmp / FINGERPRINTS).write_text(json.dumps(fingerprints, indent=1), "utf-8")
        except OutputNotWrittenError as error:
            raise self._not_written(name, error) from error
        shutil.rmtree(self._staging, ignore_errors=True)
        if fingerprints:
            logger.info(
                "%s: %d of %d shard(s) reused from an earlier or interrupted run%s",
                self._path, len(reused), len(fingerprints),
                f" ({', '.join(reused)})" if 0 < len(reused) <= 8 else "",
            )  # fmt: skip

    def _not_written(self, name: str, error: OutputNotWrittenError) -> OutputNotWrittenError:
        """The error of a failed save, worded for the dataset rather than one of its files."""
        staged = len(list(self._staging.rglob(f"*{self.SUFFIX}"))) if self._staging.is_dir() else 0
        kept = (
            f"; the {staged} shard(s) finished so far are kept in {self._staging.name}/ and "
            "the next run reuses them"
            if staged
            else ""
        )
        shard = f" (shard {name})" if name else ""
        before = (
            f"The previous {self._path.name} is unchanged"
            if self._path.is_dir()
            else "Nothing was written"
        )
        return error.about(f"{self._path}{shard}", f"{before}{kept}")

    def _reuse(self, name: str, fingerprint: str, previous: dict[str, str], file: Path) -> bool:
        """Link a shard computed before with the same fingerprint into ``file``, if any."""
        candidates = [self._staging / f"{name}.{fingerprint}{self.SUFFIX}"]
        if previous.get(name) == fingerprint:
            candidates.append(self._path / f"{name}{self.SUFFIX}")
        for candidate in candidates:
            if candidate.is_file() and zipfile.is_zipfile(candidate):
                _link_or_copy(candidate, file)
                return True
        return False

    def _write(self, name: str, arrays: ShardArrays, file: Path) -> None:
        _check_arrays(name, arrays)
        write = np.savez_compressed if self._compress else np.savez
        with atomic_file(file, suffix=self.SUFFIX) as partial:
            write(partial, **arrays)

    def _exists(self) -> bool:
        return self._path.is_dir()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), "compress": self._compress}


def _read_fingerprints(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / FINGERPRINTS).read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (same filesystem: instant, no extra space), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


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
