"""The data pipeline's picture checks on hand-made shards."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sketch_to_photo.data.processing.grids import edge_map_grid, segmentation_grid


def test_an_edge_map_grid_of_nothing_is_a_blank_strip_and_rows_per_category():
    assert edge_map_grid({}, {}, 2).size == (320, 64)
    photos = np.zeros((3, 16, 16, 3), np.uint8)
    shard = {"photos": photos, "sketches": photos, "photo_ids": np.array(["a", "b", "c"])}
    grid = edge_map_grid({"train/ant-00000": lambda: shard}, {"train/ant-00000": lambda: shard}, 2)
    blank = edge_map_grid({"train/ant-00000": lambda: shard}, {"train/ant-00000": lambda: shard}, 1)
    assert grid.height > blank.height  # two photos shown, then one


def test_a_segmentation_grid_without_photos_says_so():
    figure = segmentation_grid(
        {},
        pd.DataFrame(columns=["photo_augmentation", "category", "photo_id", "photo_path"]),
        None,
        2,
        2,
    )
    assert [t.get_text() for t in figure.texts] == ["no photos were segmented"]
