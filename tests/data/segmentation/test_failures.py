"""The failure rules: a mask judged against the box GrabCut started from, on constructed masks
and on real ant photos."""

from pathlib import Path

import numpy as np
import pytest

from sketch_to_photo.data.segmentation.boxes import init_rectangle
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.failures import failure_reason
from sketch_to_photo.data.segmentation.files import segment_files
from sketch_to_photo.datasets import SketchyTree
from sketch_to_photo.pipelines.data_processing.nodes import (
    index_photos,
    index_sketches,
    mark_invalid_sketches,
)

SKETCHY_FULL = Path(__file__).resolve().parents[3].parent / "shared" / "sketchy_full"
# Of the first 30 ant photos, measured: 5 failures, 2 empty masks and 3 wrong objects (the leaves
# of 21712 and 22773, a seed pod for 24050) that passed before outside_box (the inset rectangle
# with area-only judgement: 7, most of them small ants cut out correctly). Slack for GrabCut's
# run-to-run noise.
ANT_FAILURE_LIMIT = 7
# Cut-outs of the leaf the ant sits on, not the ant: outside_box must catch them.
ANT_LEAVES = {"n02219486_21712": "outside_box", "n02219486_22773": "outside_box"}


def _mask_with(*boxes: tuple[int, int, int, int], size: int = 100) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    for x, y, w, h in boxes:
        mask[y : y + h, x : x + w] = 1
    return mask


def test_failure_is_judged_against_the_box_not_only_the_area():
    config = SegmentationConfig()
    box, rect = (20, 20, 60, 60), (17, 17, 66, 66)
    # An object filling its box: right, whatever its area in the photo.
    assert failure_reason(_mask_with((25, 22, 50, 55)), box, rect, config) == ""
    # A small object cut out correctly is no failure with a box (1% of the photo) ...
    small_box = (50, 50, 10, 12)
    small = _mask_with((51, 50, 8, 12))
    assert failure_reason(small, small_box, (47, 47, 16, 18), config) == ""
    # ... but is with the inset rectangle, where only the photo's area can judge it.
    assert failure_reason(small, None, (4, 4, 92, 92), config) == "too_small"
    # A sliver of the box (a leaf edge, a strip of the clock radio): too small for it.
    assert failure_reason(_mask_with((20, 20, 60, 1)), box, rect, config) == "small_for_box"
    # A speck in one corner of the box is another object: off the box.
    assert failure_reason(_mask_with((20, 20, 12, 12)), box, rect, config) == "off_box"
    # An object larger than the sketches drew it (it spills into the ring): right.
    assert failure_reason(_mask_with((10, 12, 80, 75)), box, (5, 5, 90, 90), config) == ""
    # Everything GrabCut was given: nothing was separated.
    assert failure_reason(_mask_with(rect), box, rect, config) == "fills_rect"
    assert failure_reason(np.zeros((100, 100), np.uint8), box, rect, config) == "small_for_box"


def test_a_mask_covering_the_frame_fails_though_it_leaves_some_of_a_whole_frame_box():
    # Sketches spanning the photo: GrabCut's rectangle is the frame less a 1-pixel border.
    config = SegmentationConfig()
    box = (2, 2, 96, 96)
    rect = init_rectangle((100, 100), box, config, config.box_context)
    assert rect == (1, 1, 98, 98)
    scene = _mask_with((3, 3, 94, 94))  # 88% of the frame, 92% of the rectangle
    assert scene.mean() > config.max_frame_fill
    assert failure_reason(scene, box, rect, config) == "fills_frame"
    # Before the rule, nothing caught it: under max_rect_fill, inside the box.
    assert failure_reason(scene, box, rect, SegmentationConfig(max_frame_fill=1.0)) == ""
    # A large object cut out right (a clock close up covers up to 75% of its photo) passes.
    assert failure_reason(_mask_with((8, 8, 84, 84)), box, rect, config) == ""  # 71%
    # Without a box the rule holds too: 64% of the frame under a stricter limit.
    inset = init_rectangle((100, 100), None, config)
    strict = SegmentationConfig(max_frame_fill=0.5)
    assert failure_reason(_mask_with((10, 10, 80, 80)), None, inset, strict) == "fills_frame"
    assert failure_reason(_mask_with((10, 10, 80, 80)), None, inset, config) == ""


def test_a_mask_mostly_beside_the_box_fails_where_its_bounding_box_overlaps():
    config = SegmentationConfig()
    box = (40, 40, 20, 20)  # the ant's sketches; grown by bbox_padding: (37, 37, 26, 26)
    rect = init_rectangle((100, 100), box, config, config.box_context)
    leaf = _mask_with((30, 30, 60, 40))  # the leaf the ant sits on: 28% of it in the box
    # What off_box misses: the leaf's bounding box overlaps the ant's box enough.
    assert failure_reason(leaf, box, rect, SegmentationConfig(min_mask_in_box=0.0)) == ""
    assert failure_reason(leaf, box, rect, config) == "outside_box"
    # A ring around the box (buildings around a bell): its bounding box holds the box whole,
    # none of the mask is in it.
    ring = _mask_with((25, 25, 50, 50))
    ring[35:65, 35:65] = 0
    assert failure_reason(ring, box, rect, SegmentationConfig(min_mask_in_box=0.0)) == ""
    assert failure_reason(ring, box, rect, config) == "outside_box"
    # The object itself, a little larger than sketched (spilling past the padded box): right.
    assert failure_reason(_mask_with((36, 35, 30, 30)), box, rect, config) == ""
    # The share is a setting: 0.2 lets the leaf through.
    assert failure_reason(leaf, box, rect, SegmentationConfig(min_mask_in_box=0.2)) == ""


@pytest.fixture(scope="module")
def sketchy_full() -> Path:
    if not (SKETCHY_FULL / "256x256").is_dir():
        pytest.skip(f"complete Sketchy categories not found at {SKETCHY_FULL}")
    return SKETCHY_FULL


@pytest.mark.sample
def test_sketch_extent_segmentation_of_real_ants(sketchy_full):
    """The first 30 ant photos of the complete category, segmented as the pipeline does
    (all 100: docs/segmentation.md)."""
    raw = SketchyTree(sketchy_full, source="local")
    index = {
        "categories": ["ant"],
        "augmentations": ["tx_000000000000"],
        "invalid_lists": ["error", "ambiguous"],
    }
    sketches = mark_invalid_sketches(index_sketches(raw, index), raw, index)
    photos = index_photos(
        sketches[sketches["photo_id"].isin(sorted(set(sketches["photo_id"]))[:30])], raw
    )
    photos = photos[photos["has_valid_sketch"]]
    assert photos["sketch_x"].notna().all()
    tasks = [
        (
            raw.loader(row.photo_path),
            (row.sketch_x, row.sketch_y, row.sketch_width, row.sketch_height),
        )
        for row in photos.itertuples()
    ]
    results = list(segment_files(tasks, SegmentationConfig(), workers=1))
    failed = [r.failure_reason for r in results if r.failed]
    assert len(failed) <= ANT_FAILURE_LIMIT, failed
    reasons = dict(zip(photos["photo_id"], (r.failure_reason for r in results), strict=True))
    assert {p: reasons[p] for p in ANT_LEAVES} == ANT_LEAVES
