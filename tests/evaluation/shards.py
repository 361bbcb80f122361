"""Small hand-made pair shards (random images, a few sketches per photo), saved and loaded
through the catalog's dataset, for the evaluation's unit tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sketch_to_photo.datasets import NpzShardsDataset, ShardLoaders


def pair_arrays(
    rng: np.random.Generator, photo_ids: list[str], label: int, size: int
) -> dict[str, np.ndarray]:
    """One shard's arrays: a pair per entry of ``photo_ids`` (a photo repeats per sketch)."""
    n = len(photo_ids)
    distinct = sorted(set(photo_ids))
    photos = {p: rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for p in distinct}
    return {
        "sketches": rng.integers(0, 256, (n, size, size, 3), dtype=np.uint8),
        "photos": np.stack([photos[p] for p in photo_ids]),
        "photo_ids": np.array(photo_ids, dtype=np.str_),
        "sketch_ids": np.array([f"{p}-{i}" for i, p in enumerate(photo_ids)], dtype=np.str_),
        "labels": np.full(n, label, dtype=np.int16),
    }


def saved(folder: Path, shards: dict[str, dict[str, np.ndarray]]) -> ShardLoaders:
    """``shards`` saved as ``pair_shards`` is, and loaded back (lazy shards)."""
    NpzShardsDataset(path=str(folder)).save(shards)
    return NpzShardsDataset(path=str(folder)).load()
