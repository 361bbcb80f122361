"""Segmenting: one lazy, resumable shard per photo folder and category."""

from __future__ import annotations

import shutil

from sketch_to_photo.data.processing.indexing import (
    index_photos,
    index_sketches,
    mark_invalid_sketches,
)
from sketch_to_photo.data.processing.segmenting import segment_photos
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.datasets import ResumableShard, SketchyTree


def test_one_resumable_shard_per_category_computed_on_demand(synthetic_tree):
    tree = SketchyTree(synthetic_tree, source="synthetic")
    sketches = index_sketches(tree, ["teapot", "strawberry"], ["tx_000000000000"])
    photos = index_photos(mark_invalid_sketches(sketches, tree, []), tree)
    config = SegmentationConfig(iterations=2, work_size=96)
    shards = segment_photos(photos, tree, config, 1)
    assert sorted(shards) == ["tx_000000000000/strawberry", "tx_000000000000/teapot"]
    assert all(isinstance(s, ResumableShard) for s in shards.values())
    again = segment_photos(photos, tree, config, 1)
    other = segment_photos(photos, tree, SegmentationConfig(iterations=3, work_size=96), 1)
    for name, shard in shards.items():
        assert again[name].fingerprint == shard.fingerprint != other[name].fingerprint
    teapot = shards["tx_000000000000/teapot"]()
    valid = photos[(photos["category"] == "teapot") & photos["has_valid_sketch"]]
    assert sorted(teapot["photo_ids"].tolist()) == sorted(valid["photo_id"])
    assert teapot["photos"].shape[0] == teapot["masks"].shape[0] == len(valid)


def test_a_tree_copied_elsewhere_with_new_file_times_keeps_the_fingerprints(
    synthetic_tree, tmp_path
):
    """A dataset extracted or provisioned again (other folder, new times, same bytes) must not
    make a rerun segment again, rebuild the shards and restart an interrupted training."""
    copy = shutil.copytree(synthetic_tree, tmp_path / "again", copy_function=shutil.copyfile)
    shards = {}
    for root in (synthetic_tree, copy):
        tree = SketchyTree(root, source="local")
        sketches = index_sketches(tree, ["teapot"], ["tx_000000000000"])
        photos = index_photos(mark_invalid_sketches(sketches, tree, []), tree)
        shards[root] = segment_photos(photos, tree, SegmentationConfig(iterations=2), 1)
    assert {n: s.fingerprint for n, s in shards[copy].items()} == {
        n: s.fingerprint for n, s in shards[synthetic_tree].items()
    }
