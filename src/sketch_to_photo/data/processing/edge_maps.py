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
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from sketch_to_photo.data.edges import edge_map_sketch
from sketch_to_photo.data.pairs import first_of_each_photo, split_shards
from sketch_to_photo.data.processing.fingerprints import fingerprint, fingerprint_of
from sketch_to_photo.datasets import ResumableShard, ShardLoaders

logger = logging.getLogger(__name__)


EDGE_SUFFIX = "-edges"  # sketch id of a photo's edge map: <photo_id>-edges


LOOSE_KEYS = ("loose_variants", "wobble", "piece_dropout")


def _loose_rng(photo_id: str, variant: int) -> np.random.Generator:
    """The same loose variant of a photo on every run (a resumed run rebuilds it identically)."""
    return np.random.default_rng([zlib.crc32(photo_id.encode()), variant])


def _edge_map_shard(
    pairs: Mapping[str, np.ndarray], exact: dict[str, Any], loose: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Edge-map pairs of the distinct photos of a train pair shard, in the pair shards' format:
    first the exact edge map of every photo, then ``loose_variants`` loose ones per photo.

    Photos kept whole after a failed segmentation get none: their edges would be the
    background's clutter, not the object's outline.
    """
    fallback = np.asarray(pairs["segmentation_fallback"], bool)
    chosen = np.flatnonzero(first_of_each_photo(pairs["photo_ids"], ~fallback))
    rows = np.tile(
        chosen, 1 + int(loose["loose_variants"])
    )  # exact maps first: the grid shows those
    photos, masks, photo_ids = pairs["photos"], pairs["masks"], pairs["photo_ids"]
    size = photos.shape[1]
    sketches = np.empty((len(rows), size, size, 3), np.uint8)
    sketch_ids = []
    for row, i in enumerate(rows):
        variant, photo_id = row // max(1, len(chosen)), str(photo_ids[i])
        if variant == 0:
            sketches[row] = edge_map_sketch(photos[i], masks[i], **exact)
            sketch_ids.append(f"{photo_id}{EDGE_SUFFIX}")
            continue
        sketches[row] = edge_map_sketch(
            photos[i],
            masks[i],
            **exact,
            wobble=float(loose["wobble"]),
            piece_dropout=float(loose["piece_dropout"]),
            rng=_loose_rng(photo_id, variant),
        )
        sketch_ids.append(f"{photo_id}{EDGE_SUFFIX}-{variant}")
    return {
        "sketches": sketches,
        "photos": photos[rows],
        "masks": masks[rows],
        "sketch_ids": np.array(sketch_ids, dtype=np.str_),
        "photo_ids": photo_ids[rows],
        "categories": pairs["categories"][rows],
        "labels": pairs["labels"][rows],
        "segmentation_fallback": np.zeros(len(rows), bool),
        "dropped_unreadable_ids": np.zeros(0, np.str_),
        "dropped_segmentation_ids": np.zeros(0, np.str_),
    }


def edge_map_settings(edge_maps: dict[str, Any]) -> dict[str, Any]:
    """``edge_maps`` parameters -> the keyword arguments of :func:`edge_map_sketch` for the
    exact map, and the loose variants' settings (``LOOSE_KEYS``)."""
    return {
        "method": str(edge_maps["method"]),
        "sigma": float(edge_maps["sigma"]),
        "min_piece": int(edge_maps["min_piece"]),
        "stroke_width": int(edge_maps["stroke_width"]),
        "loose_variants": int(edge_maps["loose_variants"]),
        "wobble": float(edge_maps["wobble"]),
        "piece_dropout": float(edge_maps["piece_dropout"]),
    }


def build_edge_map_shards(
    pair_shards: ShardLoaders, settings: dict[str, Any]
) -> dict[str, ResumableShard]:
    """An edge-map shard for every train pair shard (same name), computed while saved and
    reused when the pair shard and the ``settings`` (:func:`edge_map_settings`) are
    unchanged."""
    exact = {k: v for k, v in settings.items() if k not in LOOSE_KEYS}
    loose = {k: settings[k] for k in LOOSE_KEYS}
    # without loose variants the fingerprint stays what it was before they existed
    identity = (exact, loose) if loose["loose_variants"] else (exact,)
    result = {}
    for name, load in split_shards(pair_shards, "train").items():
        source = fingerprint_of(load) or getattr(load(), "version", None)
        result[name] = ResumableShard(
            fingerprint("edge_maps", *identity, name, source),
            lambda load=load: _edge_map_shard(load(), exact, loose),
        )
    logger.info(
        "Edge-map pseudo-sketches for %d train shard(s) (%s, loose %s)", len(result), exact, loose
    )
    return result
