"""Aligned edge-map pseudo-sketches of the training photos.

Sketchy's sketches are drawn from memory, so an L1 loss to the photo teaches a blob of the
category's colours. An edge map computed from the photo itself is aligned stroke for stroke;
training on a mix of both teaches the outline (SketchyGAN, Chen and Hays 2018). Only the
train split gets edge maps: validation and test keep real sketches, so every score is on
real sketches. The edge maps are shards in the pair shards' format (``sketches`` are the edge
maps), so the training input reads them with the same code.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from sketch_to_photo.datasets import ResumableShard, ShardLoaders
from sketch_to_photo.edges import edge_map_sketch
from sketch_to_photo.pairs import first_of_each_photo, split_shards
from sketch_to_photo.processing.fingerprints import fingerprint, fingerprint_of

logger = logging.getLogger(__name__)


EDGE_SUFFIX = "-edges"  # sketch id of a photo's edge map: <photo_id>-edges


def _edge_map_shard(
    pairs: Mapping[str, np.ndarray], settings: dict[str, Any]
) -> dict[str, np.ndarray]:
    """One edge-map pair per distinct photo of a train pair shard, in the pair shards' format.

    Photos kept whole after a failed segmentation get none: their edges would be the
    background's clutter, not the object's outline.
    """
    fallback = np.asarray(pairs["segmentation_fallback"], bool)
    chosen = np.flatnonzero(first_of_each_photo(pairs["photo_ids"], ~fallback))
    photos, masks = pairs["photos"], pairs["masks"]
    size = photos.shape[1]
    sketches = np.empty((len(chosen), size, size, 3), np.uint8)
    for row, i in enumerate(chosen):
        sketches[row] = edge_map_sketch(photos[i], masks[i], **settings)
    photo_ids = pairs["photo_ids"][chosen]
    return {
        "sketches": sketches,
        "photos": photos[chosen],
        "masks": masks[chosen],
        "sketch_ids": np.array([f"{p}{EDGE_SUFFIX}" for p in photo_ids.tolist()], dtype=np.str_),
        "photo_ids": photo_ids,
        "categories": pairs["categories"][chosen],
        "labels": pairs["labels"][chosen],
        "segmentation_fallback": np.zeros(len(chosen), bool),
        "dropped_unreadable_ids": np.zeros(0, np.str_),
        "dropped_segmentation_ids": np.zeros(0, np.str_),
    }


def edge_map_settings(edge_maps: dict[str, Any]) -> dict[str, Any]:
    """``edge_maps`` parameters -> the keyword arguments of :func:`edge_map_sketch`."""
    return {
        "method": str(edge_maps["method"]),
        "sigma": float(edge_maps["sigma"]),
        "min_piece": int(edge_maps["min_piece"]),
        "stroke_width": int(edge_maps["stroke_width"]),
    }


def build_edge_map_shards(
    pair_shards: ShardLoaders, settings: dict[str, Any]
) -> dict[str, ResumableShard]:
    """An edge-map shard for every train pair shard (same name), computed while saved and
    reused when the pair shard and the ``settings`` (:func:`edge_map_settings`) are
    unchanged."""
    result = {}
    for name, load in split_shards(pair_shards, "train").items():
        source = fingerprint_of(load) or getattr(load(), "version", None)
        result[name] = ResumableShard(
            fingerprint("edge_maps", settings, name, source),
            lambda load=load: _edge_map_shard(load(), settings),
        )
    logger.info("Edge-map pseudo-sketches for %d train shard(s) (%s)", len(result), settings)
    return result
