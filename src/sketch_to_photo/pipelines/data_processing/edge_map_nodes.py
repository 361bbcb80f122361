"""Nodes that make aligned edge-map pseudo-sketches of the training photos
(:mod:`sketch_to_photo.data.processing.edge_maps`) and their picture check."""

from __future__ import annotations

from typing import Any

from PIL import Image

from sketch_to_photo.data.processing import edge_maps as _edge_maps
from sketch_to_photo.data.processing.grids import edge_map_grid
from sketch_to_photo.datasets import ResumableShard, ShardLoaders


def build_edge_map_shards(
    pair_shards: ShardLoaders, edge_maps: dict[str, Any]
) -> dict[str, ResumableShard]:
    """An edge-map shard for every train pair shard (same name), computed while saved and
    reused when the pair shard and the ``edge_maps`` settings are unchanged."""
    return _edge_maps.build_edge_map_shards(pair_shards, _edge_maps.edge_map_settings(edge_maps))


def plot_edge_map_grid(
    edge_map_shards: ShardLoaders, pair_shards: ShardLoaders, reporting: dict[str, Any]
) -> Image.Image:
    """photo | edge map | a real sketch of the same photo, a few photos per category
    (``reporting.grid_photos_per_category``)."""
    return edge_map_grid(edge_map_shards, pair_shards, int(reporting["grid_photos_per_category"]))
