"""Indexing a synthetic Sketchy tree with the selection given as lists."""

from __future__ import annotations

import pytest

from sketch_to_photo.data.processing.indexing import (
    index_photos,
    index_sketches,
    mark_invalid_sketches,
)
from sketch_to_photo.data.sketchy.synthetic import SUPPORTED_CATEGORIES
from sketch_to_photo.datasets import SketchyTree


def test_sketches_photos_and_invalid_marks(synthetic_tree):
    tree = SketchyTree(synthetic_tree, source="synthetic")
    sketches = index_sketches(tree, ["teapot"], ["tx_000000000000"])
    assert set(sketches["category"]) == {"teapot"} and len(sketches) > 0
    marked = mark_invalid_sketches(sketches, tree, ["error"])
    assert set(marked["invalid"]) <= {"", "error"}
    photos = index_photos(marked, tree)
    assert set(photos["photo_id"]) == set(sketches["photo_id"])
    assert {"in_testset", "bbox_x", "sketch_x", "has_valid_sketch"} <= set(photos.columns)


def test_a_bad_selection_is_explained(synthetic_tree):
    tree = SketchyTree(synthetic_tree, source="synthetic")
    with pytest.raises(ValueError, match="Unknown category"):
        index_sketches(tree, ["unicorn"], ["tx_000000000000"])
    with pytest.raises(ValueError, match="is empty"):
        index_sketches(tree, [], ["tx_000000000000"])
    sketches = index_sketches(tree, list(SUPPORTED_CATEGORIES)[:1], ["tx_000000000000"])
    with pytest.raises(ValueError, match="Unknown invalid list"):
        mark_invalid_sketches(sketches, tree, ["typo"])
