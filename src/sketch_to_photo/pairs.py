"""Naming of the pair shards: ``<split>/<category>-NNNNN`` (written by data_processing)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

SPLITS = ("train", "validation", "test")


def shard_name(split: str, category: str, number: int) -> str:
    return f"{split}/{category}-{number:05d}"


def split_and_category(name: str) -> tuple[str, str]:
    """``"train/jack-o-lantern-00002"`` -> ``("train", "jack-o-lantern")``."""
    split, file_stem = name.split("/", 1)
    return split, file_stem.rsplit("-", 1)[0]


def training_files(pair_shards: Mapping[str, Callable[[], Any]]) -> tuple[list[Path], list[Path]]:
    """The train and validation shard files; an error that says what to run when there is no
    train split."""
    train, validation = shard_paths(pair_shards, "train"), shard_paths(pair_shards, "validation")
    if not train:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    return train, validation


def shard_paths(pair_shards: Mapping[str, Callable[[], Any]], split: str) -> list[Path]:
    """Files of one split's shards, from the loaders ``NpzShardsDataset.load`` returns."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return [
        Path(load().path)
        for name, load in sorted(pair_shards.items())
        if split_and_category(name)[0] == split
    ]
