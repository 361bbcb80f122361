"""Node-level tests of data_processing on small synthetic trees built by the project."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from sketch_to_photo.data.pairs import split_and_category
from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.data.sketchy.synthetic import SUPPORTED_CATEGORIES
from sketch_to_photo.datasets import SketchyTree
from sketch_to_photo.pipelines.data_processing.nodes import (
    build_pair_shards,
    index_photos,
    index_sketches,
    mark_invalid_sketches,
    plot_segmentation_grid,
    segment_photos,
    split_photos,
    summarise_pairs,
)

CATEGORIES = list(SUPPORTED_CATEGORIES)  # conf/base/globals.yml's four
INDEX = {
    "categories": CATEGORIES,
    "augmentations": ["tx_000000000000"],
    "invalid_lists": ["error", "ambiguous"],
}
SEGMENTATION = {"workers": 1, "grabcut": {"iterations": 2, "work_size": 96}}
SPLIT = {"seed": 1, "validation_fraction": 0.25, "test_fraction": 0.0}
SHARDS = {"image_size": 64, "max_pairs_per_shard": 6, "segmentation_fallback": "keep_photo"}


def _raw(root: Path) -> SketchyTree:
    """``sketchy_raw`` as the catalog loads it."""
    return SketchyTree(root, source="synthetic")


def _indexed(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    tree = _raw(root)
    sketches = mark_invalid_sketches(index_sketches(tree, INDEX), tree, INDEX)
    return sketches, index_photos(sketches, tree)


def test_index_pairs_each_sketch_with_the_photo_named_before_its_last_dash(synthetic_tree):
    sketches = index_sketches(_raw(synthetic_tree), INDEX)
    files = sorted((synthetic_tree / layout.SKETCH_ROOT).rglob("*.png"))
    assert len(sketches) == len(files)
    assert set(sketches["category"]) == set(CATEGORIES)
    for row in sketches.itertuples():
        assert (
            row.photo_path
            == f"256x256/photo/tx_000000000000/{row.category}/{row.sketch_id.rsplit('-', 1)[0]}.jpg"
        )
        assert (synthetic_tree / row.sketch_path).is_file()
        assert (synthetic_tree / row.photo_path).is_file()
    # The generator plants a photo id that is a prefix of another: pairing must not confuse them.
    ids = set(sketches["photo_id"])
    assert any(a != b and b.startswith(a) for a in ids for b in ids)


def test_unknown_category_lists_the_available_ones(synthetic_tree):
    with pytest.raises(
        ValueError,
        match=r"Unknown category \['airplane'\].*car_\(sedan\), strawberry, teapot, teddy_bear",
    ):
        index_sketches(_raw(synthetic_tree), {**INDEX, "categories": ["airplane", "teapot"]})


def test_unknown_augmentation_is_explained(synthetic_tree):
    with pytest.raises(ValueError, match="tx_000100000000.*Available: tx_000000000000"):
        index_sketches(_raw(synthetic_tree), {**INDEX, "augmentations": ["tx_000100000000"]})


def test_invalid_lists_mark_exactly_the_listed_sketches(synthetic_tree):
    sketches = mark_invalid_sketches(
        index_sketches(_raw(synthetic_tree), INDEX), _raw(synthetic_tree), INDEX
    )
    tree = _raw(synthetic_tree)
    errors, ambiguous = tree.id_list("invalid-error.txt"), tree.id_list("invalid-ambiguous.txt")
    pose = tree.id_list("invalid-pose.txt")
    assert set(sketches.loc[sketches["invalid"] == "error", "sketch_id"]) == errors
    assert set(sketches.loc[sketches["invalid"] == "ambiguous", "sketch_id"]) == ambiguous - errors
    assert errors and ambiguous and pose
    assert not sketches.loc[sketches["sketch_id"].isin(pose - errors - ambiguous), "invalid"].any()
    with_pose = mark_invalid_sketches(
        sketches.drop(columns="invalid"), _raw(synthetic_tree), {**INDEX, "invalid_lists": ["pose"]}
    )
    assert set(with_pose.loc[with_pose["invalid"] == "pose", "sketch_id"]) == pose
    with pytest.raises(ValueError, match="choose from"):
        mark_invalid_sketches(sketches, _raw(synthetic_tree), {**INDEX, "invalid_lists": ["typo"]})


def test_photo_index_has_testset_flags_and_bboxes_from_stats(synthetic_tree):
    sketches, photos = _indexed(synthetic_tree)
    testset = _raw(synthetic_tree).id_list(layout.TESTSET_FILE)
    assert set(photos.loc[photos["in_testset"], "photo_id"]) == testset & set(photos["photo_id"])
    assert photos["exists"].all()
    bbox = photos[["bbox_x", "bbox_y", "bbox_width", "bbox_height"]]
    assert bbox.notna().all().all()
    assert ((bbox >= 0) & (bbox <= 1)).all().all()
    assert set(photos["photo_id"]) == set(sketches["photo_id"])
    extent = photos.loc[
        photos["has_valid_sketch"], ["sketch_x", "sketch_y", "sketch_width", "sketch_height"]
    ]
    assert extent.notna().all().all()
    assert ((extent >= 0) & (extent <= 1)).all().all()
    # The synthetic sketches trace the object, so their extent lies near its bbox.
    centre = lambda x, w: x + w / 2  # noqa: E731
    assert (
        abs(
            centre(photos["sketch_x"], photos["sketch_width"])
            - centre(photos["bbox_x"], photos["bbox_width"])
        )
        < 0.15
    ).mean() > 0.9


def test_grabcut_starts_from_bbox_then_sketch_extent_then_inset(synthetic_tree):
    _, photos = _indexed(synthetic_tree)
    photos = photos[photos["category"] == CATEGORIES[0]]
    no_bbox = photos.assign(bbox_x=np.nan)
    starts = {}
    for name, table, init in [
        ("bbox", photos, "sketch_extent"),
        ("sketch", no_bbox, "sketch_extent"),
        ("inset", no_bbox, "inset"),
    ]:
        params = {**SEGMENTATION, "grabcut": {**SEGMENTATION["grabcut"], "init": init}}
        (shard,) = [make() for make in segment_photos(table, _raw(synthetic_tree), params).values()]
        starts[name] = set(shard["init"])
        assert len(shard["failure_reason"]) == len(shard["photo_ids"])
        assert np.array_equal(shard["segmentation_failed"], shard["failure_reason"] != "")
        assert np.isnan(shard["init_box"]).all(axis=1).tolist() == [
            init == "inset" and name != "bbox"
        ] * len(shard["photo_ids"])
    assert starts == {"bbox": {"bbox"}, "sketch": {"sketch_extent"}, "inset": {"inset"}}


def test_split_is_by_photo_seeded_and_keeps_testset_in_test(synthetic_tree):
    _, photos = _indexed(synthetic_tree)
    splits = split_photos(photos, SPLIT)
    assert not splits.duplicated(["category", "photo_id"]).any()
    testset = set(photos.loc[photos["in_testset"], "photo_id"])
    assert set(splits.loc[splits["photo_id"].isin(testset), "split"]) == {"test"}
    assert set(splits["split"]) == {"train", "validation", "test"}
    pd.testing.assert_frame_equal(splits, split_photos(photos, SPLIT))
    other = split_photos(photos, {**SPLIT, "seed": 2})
    assert not other["split"].equals(splits["split"])
    with pytest.raises(ValueError, match="sum below 1"):
        split_photos(photos, {**SPLIT, "validation_fraction": 0.6, "test_fraction": 0.5})


def _run_to_shards(
    root: Path, shards_params: dict = SHARDS
) -> tuple[dict, dict, pd.DataFrame, pd.DataFrame]:
    sketches, photos = _indexed(root)
    segmented = {
        name: make() for name, make in segment_photos(photos, _raw(root), SEGMENTATION).items()
    }
    segmented_loaders = {name: (lambda arrays=arrays: arrays) for name, arrays in segmented.items()}
    splits = split_photos(photos, SPLIT)
    shards = build_pair_shards(
        sketches, splits, segmented_loaders, _raw(root), INDEX, shards_params
    )
    built = {name: make() for name, make in shards.items()}
    return built, segmented_loaders, sketches, splits


def test_shards_hold_valid_pairs_with_documented_keys(synthetic_tree):
    built, segmented, sketches, splits = _run_to_shards(synthetic_tree)
    valid = sketches[sketches["invalid"] == ""]
    assert sum(len(s["sketch_ids"]) for s in built.values()) == len(valid)
    split_of = dict(zip(splits["photo_id"], splits["split"], strict=True))
    for name, shard in built.items():
        split_name, category = split_and_category(name)
        n = len(shard["sketch_ids"])
        assert 0 < n <= SHARDS["max_pairs_per_shard"]
        assert shard["sketches"].shape == (n, 64, 64, 3) and shard["sketches"].dtype == np.uint8
        assert shard["photos"].shape == (n, 64, 64, 3) and shard["photos"].dtype == np.uint8
        assert shard["masks"].shape == (n, 64, 64) and set(np.unique(shard["masks"])) <= {0, 1}
        assert set(shard["categories"]) == {category}
        assert set(shard["labels"]) == {CATEGORIES.index(category)}
        assert {split_of[p] for p in shard["photo_ids"]} == {split_name}
        assert [i.rsplit("-", 1)[0] for i in shard["sketch_ids"]] == list(shard["photo_ids"])
        # Sketches: dark strokes on white. Photos: object on a white background.
        assert (shard["sketches"] > 200).mean() > 0.7
        corners = shard["photos"][:, :3, :3].reshape(-1, 3)
        assert (corners > 230).all(axis=1).mean() > 0.9
    counts = summarise_pairs(
        sketches,
        splits,
        {k: (lambda v=v: v) for k, v in built.items()},
        segmented,
        _raw(synthetic_tree),
        INDEX,
    )
    segmentation = counts["segmentation"]
    assert sum(segmentation["init"].values()) == segmentation["photos"]
    assert sum(segmentation["failure_reasons"].values()) == segmentation["failed"]
    totals = counts["totals"]
    assert totals["sketches_seen"] == len(sketches)
    assert totals["dropped_invalid"] == (sketches["invalid"] != "").sum()
    assert totals["pairs"] == len(valid)
    for category in CATEGORIES:
        for entry in counts["counts"][category].values():
            assert (
                entry["sketches_seen"]
                == entry["dropped_invalid"]
                + entry["dropped_unreadable"]
                + entry["dropped_segmentation"]
                + entry["pairs"]
            )


def test_unreadable_images_are_skipped_counted_and_reported(writable_synthetic_tree):
    root = writable_synthetic_tree
    sketches, _ = _indexed(root)
    valid = sketches[sketches["invalid"] == ""]
    bad_sketch = valid.iloc[0]
    (root / bad_sketch["sketch_path"]).write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    other_photo = valid[valid["photo_id"] != bad_sketch["photo_id"]].iloc[0]
    # Truncated to a third: OpenCV would decode it with its lower part grey.
    photo_file = root / other_photo["photo_path"]
    photo_file.write_bytes(photo_file.read_bytes()[: photo_file.stat().st_size // 3])
    lost_with_photo = valid[valid["photo_id"] == other_photo["photo_id"]]
    built, segmented, sketches, splits = _run_to_shards(root)
    dropped = {str(i) for s in built.values() for i in s["dropped_unreadable_ids"]}
    assert dropped == {bad_sketch["sketch_id"], *lost_with_photo["sketch_id"]}
    manifest = summarise_pairs(
        sketches,
        splits,
        {k: (lambda v=v: v) for k, v in built.items()},
        segmented,
        _raw(root),
        INDEX,
    )
    assert manifest["totals"]["dropped_unreadable"] == len(dropped)
    assert manifest["segmentation"]["unreadable"] == 1
    assert manifest["totals"]["pairs"] == len(valid) - len(dropped)


def test_failed_segmentation_fallbacks(writable_synthetic_tree):
    root = writable_synthetic_tree
    sketches, photos = _indexed(root)
    # A uniform grey photo: GrabCut cannot separate anything.
    target = photos[photos["has_valid_sketch"]].iloc[0]
    cv2.imwrite(str(root / target["photo_path"]), np.full((96, 96, 3), 128, np.uint8))
    n_target = ((sketches["photo_id"] == target["photo_id"]) & (sketches["invalid"] == "")).sum()
    kept, *_ = _run_to_shards(root)
    fallback = [
        i
        for s in kept.values()
        for i, f in zip(s["sketch_ids"], s["segmentation_fallback"], strict=True)
        if f
    ]
    assert len(fallback) >= n_target
    dropped, segmented, sketches, splits = _run_to_shards(
        root, {**SHARDS, "segmentation_fallback": "drop"}
    )
    gone = [i for s in dropped.values() for i in s["dropped_segmentation_ids"]]
    assert len(gone) == len(fallback)
    assert set(gone) == set(fallback)
    # Dropped, not kept: no pair of the grey photo, none flagged as a fallback.
    paired = {str(i) for s in dropped.values() for i in s["sketch_ids"]}
    assert not paired & set(gone)
    assert not any(s["segmentation_fallback"].any() for s in dropped.values())
    with pytest.raises(ValueError, match="keep_photo"):
        build_pair_shards(
            sketches,
            splits,
            segmented,
            _raw(root),
            INDEX,
            {**SHARDS, "segmentation_fallback": "nope"},
        )


def test_photos_failing_a_placement_rule_lose_their_pairs_in_every_split(synthetic_tree):
    """fills_frame (one of the rules on where the mask lies) on real GrabCut masks: with
    ``drop`` the failed photos' pairs leave train and test alike, and the manifest counts them
    under the rule's name."""
    sketches, photos = _indexed(synthetic_tree)
    raw = _raw(synthetic_tree)
    plain = [make() for make in segment_photos(photos, raw, SEGMENTATION).values()]
    assert not any(shard["segmentation_failed"].any() for shard in plain)
    # A frame limit at the median cut-out's size: the larger half of the objects now fail.
    limit = float(np.median(np.concatenate([shard["mask_area"] for shard in plain])))
    strict = {**SEGMENTATION, "grabcut": {**SEGMENTATION["grabcut"], "max_frame_fill": limit}}
    segmented = {name: make() for name, make in segment_photos(photos, raw, strict).items()}
    loaders = {name: (lambda arrays=arrays: arrays) for name, arrays in segmented.items()}
    failed = {
        (name.split("/", 1)[1], str(photo_id))
        for name, shard in segmented.items()
        for photo_id, bad in zip(shard["photo_ids"], shard["segmentation_failed"], strict=True)
        if bad
    }
    assert {str(r) for shard in segmented.values() for r in shard["failure_reason"] if r} == {
        "fills_frame"
    }
    splits = split_photos(photos, SPLIT)
    split_of = {
        (c, p): s for c, p, s in splits[["category", "photo_id", "split"]].itertuples(False)
    }
    assert {"train", "test"} <= {split_of[key] for key in failed}
    shards = build_pair_shards(
        sketches, splits, loaders, raw, INDEX, {**SHARDS, "segmentation_fallback": "drop"}
    )
    built = {name: make() for name, make in shards.items()}
    valid = sketches[sketches["invalid"] == ""]
    of_failed = valid[
        [key in failed for key in zip(valid["category"], valid["photo_id"], strict=True)]
    ]
    paired = {str(i) for shard in built.values() for i in shard["sketch_ids"]}
    dropped = {str(i) for shard in built.values() for i in shard["dropped_segmentation_ids"]}
    assert dropped == set(of_failed["sketch_id"])
    assert not paired & dropped
    assert paired | dropped == set(valid["sketch_id"])
    manifest = summarise_pairs(
        sketches, splits, {k: (lambda v=v: v) for k, v in built.items()}, loaders, raw, INDEX
    )
    segmentation = manifest["segmentation"]
    assert segmentation["failed"] == len(failed)
    assert segmentation["failure_reasons"]["fills_frame"] == len(failed)
    assert segmentation["failure_reasons"]["outside_box"] == 0
    # Every synthetic photo has a stats.csv box, so each failure was retried from the inset.
    assert sum(segmentation["retry_failure_reasons"].values()) == len(failed)
    in_test = [
        split_of[key] == "test"
        for key in zip(of_failed["category"], of_failed["photo_id"], strict=True)
    ]
    assert manifest["per_split"]["test"]["dropped_segmentation"] == sum(in_test) > 0
    assert manifest["totals"]["dropped_segmentation"] == len(of_failed)
    assert manifest["totals"]["pairs"] == len(valid) - len(of_failed)


def test_segmentation_grid_shows_each_category(synthetic_tree):
    _, photos = _indexed(synthetic_tree)
    segmented = segment_photos(photos, _raw(synthetic_tree), SEGMENTATION)
    figure = plot_segmentation_grid(
        segmented,
        photos,
        _raw(synthetic_tree),
        {"grid_photos_per_category": 1, "grid_max_failed": 2},
    )
    axes = figure.get_axes()
    assert len(axes) >= 3 * len(CATEGORIES)
    labels = " ".join(ax.get_ylabel() for ax in axes)
    assert all(category in labels for category in CATEGORIES)


def test_segmentation_grid_says_what_becomes_of_failed_photos(synthetic_tree):
    _, photos = _indexed(synthetic_tree)
    photos = photos[photos["category"] == CATEGORIES[0]]
    # Every cut-out over 0.1% of its photo fails fills_frame.
    strict = {**SEGMENTATION, "grabcut": {**SEGMENTATION["grabcut"], "max_frame_fill": 0.001}}
    segmented = segment_photos(photos, _raw(synthetic_tree), strict)
    reporting = {"grid_photos_per_category": 1, "grid_max_failed": 2}
    titles = {}
    for fallback in ("keep_photo", "drop"):
        figure = plot_segmentation_grid(
            segmented,
            photos,
            _raw(synthetic_tree),
            reporting,
            {**SHARDS, "segmentation_fallback": fallback},
        )
        titles[fallback] = [ax.get_title() for ax in figure.get_axes()]
    assert any("fills_frame" in title for title in titles["drop"])
    assert "failed: pairs dropped" in titles["drop"]
    assert "fallback: kept photo" not in titles["drop"]
    assert "fallback: kept photo" in titles["keep_photo"]
