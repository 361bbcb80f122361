"""Edge-map shards on hand-made pairs: one per distinct photo, none for a kept-whole photo."""

from __future__ import annotations

import cv2
import numpy as np

from sketch_to_photo.data.processing.edge_maps import (
    EDGE_SUFFIX,
    _edge_map_shard,
    build_edge_map_shards,
    edge_map_settings,
)

LOOSE = {"loose_variants": 0, "wobble": 6.0, "piece_dropout": 0.3}
SETTINGS = edge_map_settings(
    {"method": "canny", "sigma": "0.33", "min_piece": 12, "stroke_width": 2, **LOOSE}
)
EXACT = {"method": "canny", "sigma": 0.33, "min_piece": 12, "stroke_width": 2}


def _pairs() -> dict[str, np.ndarray]:
    photos = np.full((5, 64, 64, 3), 255, np.uint8)
    for photo in photos:
        cv2.circle(photo, (32, 32), 18, (200, 40, 40), -1)
    return {
        "sketches": np.full((5, 64, 64, 3), 255, np.uint8),
        "photos": photos,
        "masks": np.ones((5, 64, 64), np.uint8),
        "sketch_ids": np.array(["a-1", "a-2", "b-1", "c-1", "c-2"]),
        "photo_ids": np.array(["a", "a", "b", "c", "c"]),
        "categories": np.array(["ant"] * 5),
        "labels": np.zeros(5, np.int16),
        "segmentation_fallback": np.array([False, False, True, True, False]),
    }


def test_settings_are_typed():
    assert SETTINGS == {**EXACT, **LOOSE}


def test_one_edge_map_per_photo_and_none_for_a_photo_kept_whole():
    shard = _edge_map_shard(_pairs(), EXACT, LOOSE)
    # b's only pair kept the whole photo; c's first did, its second is usable
    assert shard["photo_ids"].tolist() == ["a", "c"]
    assert shard["sketch_ids"].tolist() == [f"a{EDGE_SUFFIX}", f"c{EDGE_SUFFIX}"]
    assert shard["sketches"].shape == (2, 64, 64, 3) and (shard["sketches"] == 0).any()
    assert not shard["segmentation_fallback"].any()


def test_only_train_shards_get_edge_maps_resumable_by_source_and_settings():
    pairs = _pairs()
    loaders = {"train/ant-00000": lambda: pairs, "test/ant-00000": lambda: pairs}
    shards = build_edge_map_shards(loaders, SETTINGS)
    assert list(shards) == ["train/ant-00000"]
    other = build_edge_map_shards(loaders, {**SETTINGS, "sigma": 0.5})
    assert other["train/ant-00000"].fingerprint != shards["train/ant-00000"].fingerprint
