"""data_processing: extracted Sketchy tree -> segmented photos -> split -> npz pair shards,
and aligned edge-map pseudo-sketches of the training photos."""

from kedro.pipeline import Node, Pipeline

from .edge_map_nodes import build_edge_map_shards, plot_edge_map_grid
from .nodes import (
    build_pair_shards,
    index_photos,
    index_sketches,
    mark_invalid_sketches,
    plot_segmentation_grid,
    segment_photos,
    split_photos,
    summarise_pairs,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                index_sketches,
                ["sketchy_raw", "params:index"],
                "sketch_files",
                name="index_sketches",
            ),
            Node(
                mark_invalid_sketches,
                ["sketch_files", "sketchy_raw", "params:index"],
                "sketch_index",
                name="mark_invalid_sketches",
            ),
            Node(index_photos, ["sketch_index", "sketchy_raw"], "photo_index", name="index_photos"),
            Node(
                segment_photos,
                ["photo_index", "sketchy_raw", "params:segmentation"],
                "segmented_photos",
                name="segment_photos",
            ),
            Node(
                plot_segmentation_grid,
                [
                    "segmented_photos",
                    "photo_index",
                    "sketchy_raw",
                    "params:reporting",
                    "params:shards",
                ],
                "segmentation_grid@figure",
                name="plot_segmentation_grid",
            ),
            Node(
                split_photos, ["photo_index", "params:split"], "photo_splits", name="split_photos"
            ),
            Node(
                build_pair_shards,
                [
                    "sketch_index",
                    "photo_splits",
                    "segmented_photos",
                    "sketchy_raw",
                    "params:index",
                    "params:shards",
                ],
                "pair_shards",
                name="build_pair_shards",
            ),
            Node(
                summarise_pairs,
                [
                    "sketch_index",
                    "photo_splits",
                    "pair_shards",
                    "segmented_photos",
                    "sketchy_raw",
                    "params:index",
                ],
                "pairs_manifest",
                name="summarise_pairs",
            ),
            Node(
                build_edge_map_shards,
                ["pair_shards", "params:edge_maps"],
                "edge_map_shards",
                name="build_edge_map_shards",
            ),
            Node(
                plot_edge_map_grid,
                ["edge_map_shards", "pair_shards", "params:reporting"],
                "edge_map_grid",
                name="plot_edge_map_grid",
            ),
        ]
    )
