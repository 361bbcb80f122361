"""Naming of the pair shards: ``<split>/<category>-NNNNN`` (written by data_processing)."""

from __future__ import annotations

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
