"""Nodes that make aligned edge-map pseudo-sketches of the training photos.

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
from PIL import Image

from sketch_to_photo.datasets import ResumableShard, ShardLoaders
from sketch_to_photo.edges import edge_map_sketch
from sketch_to_photo.models.callbacks import caption_grid, render_grid
from sketch_to_photo.pairs import split_and_category, split_shards

from .nodes import _fingerprint_of, fingerprint

logger = logging.getLogger(__name__)

EDGE_SUFFIX = "-edges"  # sketch id of a photo's edge map: <photo_id>-edges


def _first_of_each_photo(photo_ids: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Indices of the first pair of each photo, among the ``usable`` pairs."""
    seen: set[str] = set()
    chosen = []
    for i, photo_id in enumerate(photo_ids.tolist()):
        if usable[i] and photo_id not in seen:
            seen.add(photo_id)
            chosen.append(i)
    return np.asarray(chosen, dtype=np.int64)


def _loose_rng(photo_id: str, variant: int) -> np.random.Generator:
    """The same loose variant of a photo on every run (a resumed run rebuilds it identically)."""
    return np.random.default_rng([zlib.crc32(photo_id.encode()), variant])


def _edge_map_shard(
    pairs: Mapping[str, np.ndarray], settings: dict[str, Any], loose: dict[str, Any]
) -> dict[str, np.ndarray]:
    """Edge-map pairs of the distinct photos of a train pair shard, in the pair shards' format:
    first the exact edge map of every photo, then ``loose["variants"]`` loose ones per photo.

    Photos kept whole after a failed segmentation get none: their edges would be the
    background's clutter, not the object's outline.
    """
    fallback = np.asarray(pairs["segmentation_fallback"], bool)
    chosen = _first_of_each_photo(pairs["photo_ids"], ~fallback)
    photos, masks = pairs["photos"], pairs["masks"]
    rows = np.tile(chosen, 1 + loose["variants"])  # exact maps first: the grid shows those
    size = photos.shape[1]
    sketches = np.empty((len(rows), size, size, 3), np.uint8)
    sketch_ids = []
    for row, i in enumerate(rows):
        variant, photo_id = row // len(chosen), str(pairs["photo_ids"][i])
        if variant == 0:
            sketches[row] = edge_map_sketch(photos[i], masks[i], **settings)
            sketch_ids.append(f"{photo_id}{EDGE_SUFFIX}")
            continue
        sketches[row] = edge_map_sketch(
            photos[i],
            masks[i],
            **settings,
            wobble=loose["wobble"],
            piece_dropout=loose["piece_dropout"],
            rng=_loose_rng(photo_id, variant),
        )
        sketch_ids.append(f"{photo_id}{EDGE_SUFFIX}-{variant}")
    return {
        "sketches": sketches,
        "photos": photos[rows],
        "masks": masks[rows],
        "sketch_ids": np.array(sketch_ids, dtype=np.str_),
        "photo_ids": pairs["photo_ids"][rows],
        "categories": pairs["categories"][rows],
        "labels": pairs["labels"][rows],
        "segmentation_fallback": np.zeros(len(rows), bool),
        "dropped_unreadable_ids": np.zeros(0, np.str_),
        "dropped_segmentation_ids": np.zeros(0, np.str_),
    }


def build_edge_map_shards(
    pair_shards: ShardLoaders, edge_maps: dict[str, Any]
) -> dict[str, ResumableShard]:
    """An edge-map shard for every train pair shard (same name), computed while saved and
    reused when the pair shard and the settings are unchanged."""
    settings = {
        "method": str(edge_maps["method"]),
        "sigma": float(edge_maps["sigma"]),
        "min_piece": int(edge_maps["min_piece"]),
        "stroke_width": int(edge_maps["stroke_width"]),
    }
    loose = {
        "variants": int(edge_maps["loose_variants"]),
        "wobble": float(edge_maps["wobble"]),
        "piece_dropout": float(edge_maps["piece_dropout"]),
    }
    # the fingerprint of a shard without loose variants stays what it was before they existed
    identity = (settings, loose) if loose["variants"] else (settings,)
    result = {}
    for name, load in split_shards(pair_shards, "train").items():
        source = _fingerprint_of(load) or getattr(load(), "version", None)
        result[name] = ResumableShard(
            fingerprint("edge_maps", *identity, name, source),
            lambda load=load: _edge_map_shard(load(), settings, loose),
        )
    logger.info(
        "Edge-map pseudo-sketches for %d train shard(s) (%s, loose variants %s)",
        len(result),
        settings,
        loose,
    )
    return result


def plot_edge_map_grid(
    edge_map_shards: ShardLoaders, pair_shards: ShardLoaders, reporting: dict[str, Any]
) -> Image.Image:
    """photo | edge map | a real sketch of the same photo, a few photos per category."""
    per_category = int(reporting["grid_photos_per_category"])
    real_sketches: dict[str, np.ndarray] = {}
    for load in split_shards(pair_shards, "train").values():
        pairs = load()
        photo_ids = pairs["photo_ids"]
        wanted = _first_of_each_photo(photo_ids, np.ones(len(photo_ids), bool))
        sketches = pairs["sketches"]  # read once: each access of a lazy shard decodes it
        for i in wanted:
            real_sketches.setdefault(str(photo_ids[i]), sketches[i].copy())  # not a view of all
    photos, edges, sketches, captions = [], [], [], []
    shown: dict[str, int] = {}
    for name, load in sorted(edge_map_shards.items()):
        category = split_and_category(name)[1]
        shard = load()
        take = max(0, min(per_category - shown.get(category, 0), len(shard["photo_ids"])))
        shown[category] = shown.get(category, 0) + take
        shard_photos, shard_edges = shard["photos"][:take], shard["sketches"][:take]
        for i, photo_id in enumerate(shard["photo_ids"][:take].tolist()):
            photos.append(shard_photos[i])
            edges.append(shard_edges[i])
            sketches.append(real_sketches.get(photo_id, np.full_like(shard_edges[i], 255)))
            captions.append([category, photo_id])
    if not photos:
        return Image.fromarray(np.full((64, 320, 3), 255, np.uint8))
    size = photos[0].shape[0]
    grid = render_grid(
        np.stack(photos),
        np.stack(edges),
        np.stack(sketches),
        ("photo", "edge map", "a real sketch"),
    )
    title = ["Training inputs: the edge map is aligned with the photo; real sketches are not"]
    return Image.fromarray(caption_grid(grid, size, title, captions))
