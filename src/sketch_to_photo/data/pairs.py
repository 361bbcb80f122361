"""Naming of the pair shards: ``<split>/<category>-NNNNN`` (written by data_processing), and
what the shards' small arrays say: each category's label, each photo's first pair."""

from __future__ import annotations

import numpy as np

from sketch_to_photo.datasets import ShardLoaders

SPLITS = ("train", "validation", "test")


def shard_name(split: str, category: str, number: int) -> str:
    return f"{split}/{category}-{number:05d}"


def split_and_category(name: str) -> tuple[str, str]:
    """``"train/jack-o-lantern-00002"`` -> ``("train", "jack-o-lantern")``."""
    split, file_stem = name.split("/", 1)
    return split, file_stem.rsplit("-", 1)[0]


def training_shards(pair_shards: ShardLoaders) -> tuple[ShardLoaders, ShardLoaders]:
    """The train and validation shards; an error that says what to run when there is no
    train split."""
    train, validation = split_shards(pair_shards, "train"), split_shards(pair_shards, "validation")
    if not train:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    return train, validation


def split_shards(pair_shards: ShardLoaders, split: str) -> ShardLoaders:
    """One split's shards (name -> loader, by name) of the ``pair_shards`` dataset."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return {
        name: load
        for name, load in sorted(pair_shards.items())
        if split_and_category(name)[0] == split
    }


def shard_labels(pair_shards: ShardLoaders) -> dict[str, int]:
    """Category name -> label index, read from the shards' ``labels`` arrays."""
    labels: dict[str, int] = {}
    for name, load in sorted(pair_shards.items()):
        shard_labels = load()["labels"]
        if len(shard_labels):
            labels[split_and_category(name)[1]] = int(shard_labels[0])
    return labels


def first_of_each_photo(
    photo_ids: np.ndarray, usable: np.ndarray | None = None, seen: set[str] | None = None
) -> np.ndarray:
    """A boolean per pair: True for the first pair of each photo (a photo has one pair per
    sketch), among the ``usable`` pairs when given.

    ``seen`` holds the photo ids met before (in earlier shards): their pairs are not first.
    It is updated with the photos found here, so one set carries across a run of shards.
    """
    seen = set() if seen is None else seen
    first = np.zeros(len(photo_ids), bool)
    for i, photo_id in enumerate(photo_ids.tolist()):
        if (usable is None or usable[i]) and photo_id not in seen:
            seen.add(photo_id)
            first[i] = True
    return first
