"""Nodes of the data_processing pipeline: from an extracted Sketchy tree to npz pair shards.

Each node reads its parameters and calls :mod:`sketch_to_photo.data.processing`; the tree comes
from the catalog (``sketchy_raw``, a :class:`~sketch_to_photo.datasets.SketchyTree`) and every
file is read through it. Counting rule, per category and split:
``sketches_seen = dropped_invalid + dropped_unreadable + dropped_segmentation + pairs``.
The edge-map nodes are in :mod:`.edge_map_nodes`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sketch_to_photo.data.processing import indexing, manifest, segmenting, splitting
from sketch_to_photo.data.processing import shards as _shards
from sketch_to_photo.data.processing.grids import segmentation_grid
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.files import resolve_workers
from sketch_to_photo.datasets import LazyNpz, ResumableShard, SketchyTree


def index_sketches(sketchy_raw: SketchyTree, index: dict[str, Any]) -> pd.DataFrame:
    """One row per sketch file of ``index.categories`` and ``index.augmentations``."""
    return indexing.index_sketches(
        sketchy_raw, list(index["categories"]), list(index["augmentations"])
    )


def mark_invalid_sketches(
    sketches: pd.DataFrame, sketchy_raw: SketchyTree, index: dict[str, Any]
) -> pd.DataFrame:
    """Add ``invalid``: the first of ``index.invalid_lists`` naming the sketch, or ''."""
    return indexing.mark_invalid_sketches(sketches, sketchy_raw, index["invalid_lists"])


def index_photos(sketches: pd.DataFrame, sketchy_raw: SketchyTree) -> pd.DataFrame:
    """One row per photo that has a sketch, with Sketchy's test flag and boxes if known."""
    return indexing.index_photos(sketches, sketchy_raw)


def segment_photos(
    photos: pd.DataFrame, sketchy_raw: SketchyTree, segmentation: dict[str, Any]
) -> dict[str, ResumableShard]:
    """Cut each photo's object out onto white (``segmentation.grabcut``, ``workers``); one
    lazily computed, resumable shard per folder/category."""
    config = SegmentationConfig(**segmentation["grabcut"])
    workers = resolve_workers(segmentation["workers"])
    return segmenting.segment_photos(photos, sketchy_raw, config, workers)


def plot_segmentation_grid(
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    photos: pd.DataFrame,
    sketchy_raw: SketchyTree,
    reporting: dict[str, Any],
    shards: dict[str, Any] | None = None,
) -> Figure:
    """Before/after figure: photo | mask | cut-out, a few per category plus any failures,
    captioned with what becomes of their pairs (``shards.segmentation_fallback``)."""
    return segmentation_grid(
        segmented_photos,
        photos,
        sketchy_raw,
        reporting["grid_photos_per_category"],
        reporting["grid_max_failed"],
        (shards or {}).get("segmentation_fallback", "keep_photo"),
    )


def split_photos(photos: pd.DataFrame, split: dict[str, Any]) -> pd.DataFrame:
    """Assign each photo (never a single sketch) to train, validation or test (``split``)."""
    return splitting.split_photos(
        photos,
        int(split["seed"]),
        float(split["validation_fraction"]),
        float(split["test_fraction"]),
    )


def build_pair_shards(
    sketches: pd.DataFrame,
    photo_splits: pd.DataFrame,
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    sketchy_raw: SketchyTree,
    index: dict[str, Any],
    shards: dict[str, Any],
) -> dict[str, ResumableShard]:
    """Pair each valid sketch with its segmented photo; resumable shards
    ``<split>/<category>-NNNNN`` (``shards``: size, fallback, pairs per shard)."""
    return _shards.build_pair_shards(
        sketches,
        photo_splits,
        segmented_photos,
        sketchy_raw,
        index["categories"],
        int(shards["image_size"]),
        shards["segmentation_fallback"],
        int(shards["max_pairs_per_shard"]),
    )


def summarise_pairs(
    sketches: pd.DataFrame,
    photo_splits: pd.DataFrame,
    pair_shards: dict[str, Callable[[], LazyNpz]],
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    sketchy_raw: SketchyTree,
    index: dict[str, Any],
) -> dict[str, Any]:
    """The manifest: counts per category and split, shard list, segmentation figures."""
    return manifest.summarise_pairs(
        sketches, photo_splits, pair_shards, segmented_photos, sketchy_raw, index
    )
