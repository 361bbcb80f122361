"""Edge-map pseudo-sketches of the train photos, on pair shards of the project's synthetic data."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.pairs import split_and_category
from sketch_to_photo.data.processing.edge_maps import EDGE_SUFFIX
from sketch_to_photo.pipelines.data_processing.edge_map_nodes import (
    build_edge_map_shards,
    plot_edge_map_grid,
)
from tests.pipelines.data_processing.test_nodes import _run_to_shards

EDGE_MAPS = {
    "method": "canny",
    "sigma": 0.33,
    "min_piece": 12,
    "stroke_width": 2,
    "loose_variants": 0,
    "wobble": 6.0,
    "piece_dropout": 0.3,
}


@pytest.fixture(scope="module")
def pair_loaders(synthetic_tree) -> dict:
    built, *_ = _run_to_shards(synthetic_tree)
    return {name: (lambda arrays=arrays: arrays) for name, arrays in built.items()}


def test_one_aligned_edge_map_per_train_photo_and_none_for_other_splits(pair_loaders):
    shards = build_edge_map_shards(pair_loaders, EDGE_MAPS)
    train = sorted(n for n in pair_loaders if split_and_category(n)[0] == "train")
    assert sorted(shards) == train  # validation and test keep real sketches only
    for name, make in shards.items():
        edges, pairs = make(), pair_loaders[name]()
        usable = ~pairs["segmentation_fallback"]
        assert list(edges["photo_ids"]) == list(dict.fromkeys(pairs["photo_ids"][usable]))
        assert list(edges["sketch_ids"]) == [f"{p}{EDGE_SUFFIX}" for p in edges["photo_ids"]]
        assert edges["sketches"].shape == edges["photos"].shape
        assert (edges["labels"] == pairs["labels"][0]).all()
        for sketch, mask in zip(edges["sketches"], edges["masks"], strict=True):
            ink = sketch[..., 0] < 128
            assert 0.005 < ink.mean() < 0.3  # strokes, not a blank page or a filled shape
            # aligned: every stroke lies on the object or its outline (the mask grown by 3 px)
            near = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
            assert ink[~near].sum() == 0


def test_edge_map_shards_resume_by_what_they_are_computed_from(pair_loaders):
    first = build_edge_map_shards(pair_loaders, EDGE_MAPS)
    again = build_edge_map_shards(pair_loaders, EDGE_MAPS)
    wider = build_edge_map_shards(pair_loaders, {**EDGE_MAPS, "stroke_width": 3})
    name = next(iter(first))
    assert first[name].fingerprint == again[name].fingerprint
    assert first[name].fingerprint != wider[name].fingerprint
    assert len({shard.fingerprint for shard in first.values()}) == len(first)


def test_loose_variants_follow_the_exact_maps_and_change_the_fingerprint(pair_loaders):
    exact = build_edge_map_shards(pair_loaders, EDGE_MAPS)
    loose = build_edge_map_shards(pair_loaders, {**EDGE_MAPS, "loose_variants": 2})
    name = next(iter(exact))
    assert exact[name].fingerprint != loose[name].fingerprint
    plain, varied = exact[name](), loose[name]()
    count = len(plain["photo_ids"])
    assert len(varied["photo_ids"]) == 3 * count
    # the exact maps come first (the grid shows those), then each loose round over every photo
    np.testing.assert_array_equal(varied["sketches"][:count], plain["sketches"])
    assert list(varied["photo_ids"]) == 3 * list(plain["photo_ids"])
    assert list(varied["sketch_ids"][count : count + 2]) == [
        f"{p}{EDGE_SUFFIX}-1" for p in plain["photo_ids"][:2]
    ]
    for variant in (1, 2):
        rows = slice(variant * count, (variant + 1) * count)
        assert not np.array_equal(varied["sketches"][rows], plain["sketches"])
        np.testing.assert_array_equal(varied["photos"][rows], plain["photos"])
    # the same loose maps on every build: a resumed run rebuilds them identically
    np.testing.assert_array_equal(
        varied["sketches"],
        build_edge_map_shards(pair_loaders, {**EDGE_MAPS, "loose_variants": 2})[name]()["sketches"],
    )


def test_edge_map_grid_shows_photo_edge_map_and_a_real_sketch(pair_loaders):
    built = {name: make() for name, make in build_edge_map_shards(pair_loaders, EDGE_MAPS).items()}
    edges = {name: (lambda arrays=arrays: arrays) for name, arrays in built.items()}
    grid = np.asarray(plot_edge_map_grid(edges, pair_loaders, {"grid_photos_per_category": 1}))
    size = 64
    rows = len({split_and_category(n)[1] for n in edges})
    assert grid.shape[0] > rows * size and grid.shape[1] > 3 * size
    assert (grid < 128).any()
