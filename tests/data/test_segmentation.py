import os
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.segmentation import (
    FAILURE_REASONS,
    SegmentationConfig,
    failure_reason,
    init_rectangle,
    ink_box,
    read_rgb,
    resolve_workers,
    segment_files,
    segment_object,
    sketch_extent,
)
from sketch_to_photo.datasets import SketchyTree
from sketch_to_photo.pipelines.data_processing.nodes import (
    index_photos,
    index_sketches,
    mark_invalid_sketches,
)

SKETCHY_FULL = Path(__file__).resolve().parents[2].parent / "shared" / "sketchy_full"
# Of the first 30 ant photos, measured: 5 failures, 2 empty masks and 3 wrong objects (the leaves
# of 21712 and 22773, a seed pod for 24050) that passed before outside_box (the inset rectangle
# with area-only judgement: 7, most of them small ants cut out correctly). Slack for GrabCut's
# run-to-run noise.
ANT_FAILURE_LIMIT = 7
# Cut-outs of the leaf the ant sits on, not the ant: outside_box must catch them.
ANT_LEAVES = {"n02219486_21712": "outside_box", "n02219486_22773": "outside_box"}


def _photo_with_disc(size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a noisy green-blue gradient, and the disc's true mask."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size, dtype=np.float32)[None, :, None]
    background = np.array([40, 140, 90]) * (1 - ramp) + np.array([30, 90, 160]) * ramp
    photo = np.clip(background + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    truth = np.zeros((size, size), np.uint8)
    cv2.circle(truth, (size // 2 + 6, size // 2 - 4), size // 4, 1, -1)
    photo[truth == 1] = (210, 30, 40)
    return photo, truth


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())


def test_segments_object_onto_white():
    photo, truth = _photo_with_disc()
    result = segment_object(photo)
    assert not result.failed
    assert _iou(result.mask, truth) > 0.9
    assert result.cutout.shape == photo.shape and result.cutout.dtype == np.uint8
    assert (result.cutout[truth == 0][:, :] > 240).all(axis=1).mean() > 0.95  # background white
    assert np.abs(result.cutout[truth == 1].astype(int) - (210, 30, 40)).mean() < 10


def test_bbox_initialisation_and_downscaled_work_size():
    photo, truth = _photo_with_disc(size=256)
    ys, xs = np.nonzero(truth)
    bbox = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    result = segment_object(photo, bbox, SegmentationConfig(work_size=96))
    assert result.mask.shape == truth.shape
    assert _iou(result.mask, truth) > 0.85


def test_featureless_photo_is_flagged_failed():
    flat = np.full((64, 64, 3), 128, np.uint8)
    result = segment_object(flat)
    assert result.failed
    assert result.failure_reason in {"too_small", "fills_rect"}


def test_init_rectangle_keeps_a_background_border():
    config = SegmentationConfig()
    assert init_rectangle((100, 200), (0, 0, 200, 100), config) == (1, 1, 198, 98)
    assert init_rectangle((100, 100), (40, 40, 20, 20), config, padding=0.1) == (27, 27, 46, 46)
    x, y, w, h = init_rectangle((100, 100), None, config)
    assert (x, y) == (4, 4) and (w, h) == (92, 92)
    with pytest.raises(ValueError, match="no object area"):
        init_rectangle((100, 100), (150, 150, 10, 10), config)


def test_rejects_non_rgb_input():
    with pytest.raises(ValueError, match="RGB uint8"):
        segment_object(np.zeros((10, 10), np.uint8))


def test_invalid_config_is_explained():
    with pytest.raises(ValueError, match="min_area < max_area"):
        SegmentationConfig(min_area=0.5, max_area=0.4)
    with pytest.raises(ValueError, match="init must be one of"):
        SegmentationConfig(init="saliency")
    with pytest.raises(ValueError, match="min_box_iou must be in"):
        SegmentationConfig(min_box_iou=1.5)
    with pytest.raises(ValueError, match=r"max_frame_fill must be in \[0, 1\], got 1.2"):
        SegmentationConfig(max_frame_fill=1.2)
    with pytest.raises(ValueError, match=r"min_mask_in_box must be in \[0, 1\], got -0.1"):
        SegmentationConfig(min_mask_in_box=-0.1)


def test_ink_box_and_median_sketch_extent():
    sketch = np.full((64, 64, 3), 255, np.uint8)
    assert ink_box(sketch) is None
    sketch[10:20, 30:34] = (230, 230, 230)  # faint anti-aliasing grey is not ink
    assert ink_box(sketch) is None
    sketch[12:40, 8:50] = 0
    assert ink_box(sketch) == (8, 12, 42, 28)
    # One sketch drawn much larger does not move the median edges of three.
    boxes = [(10, 10, 40, 40), (12, 8, 40, 44), (0, 0, 100, 100)]
    assert sketch_extent(boxes) == (10, 8, 42, 44)  # edges 10, 8, 52, 52
    assert sketch_extent([]) is None


def test_sketch_extent_box_finds_a_small_object_beside_a_bigger_one():
    # A small red disc in a corner, a big yellow block in the middle: from the inset rectangle
    # GrabCut takes the block (or both); from the box the sketches drew, the disc alone.
    rng = np.random.default_rng(1)
    photo = np.clip(rng.normal(90, 10, (128, 128, 3)), 0, 255).astype(np.uint8)
    photo[40:110, 45:115] = (230, 210, 40)
    truth = np.zeros((128, 128), np.uint8)
    cv2.circle(truth, (24, 24), 11, 1, -1)
    photo[truth == 1] = (200, 30, 40)
    result = segment_object(photo, (12, 12, 25, 25), SegmentationConfig())
    assert result.failure_reason == ""
    assert _iou(result.mask, truth) > 0.85


def test_a_box_inside_a_larger_object_falls_back_to_the_inset_rectangle():
    # Sketched as a part of it: from the box, the object's own colours lie all around and
    # GrabCut separates nothing there; the inset rectangle's cut agrees with the box and wins.
    photo, _ = _photo_with_disc(size=128)
    truth = np.zeros((128, 128), np.uint8)
    cv2.circle(truth, (64, 64), 50, 1, -1)
    photo[truth == 1] = (210, 30, 40)
    box = (44, 34, 40, 60)
    result = segment_object(photo, box, SegmentationConfig(min_mask_in_box=0.3))
    assert result.inset_retry and result.failure_reason == ""
    assert _iou(result.mask, truth) > 0.9
    assert not segment_object(photo, None, SegmentationConfig()).inset_retry
    # The price of outside_box: 42% of this disc lies in the padded box, and at the default
    # 0.55 the retry is refused like the flower around an ant (measured: 2 right cut-outs, a
    # guitar and an alarm clock, lost this way against 29 wrong ones caught).
    refused = segment_object(photo, box, SegmentationConfig())
    assert refused.failed and not refused.inset_retry
    assert refused.retry_reason == "outside_box"


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


def test_the_inset_retry_reason_is_kept_when_it_fails_too():
    flat = np.full((64, 64, 3), 128, np.uint8)  # nothing to separate from either start
    result = segment_object(flat, (16, 16, 32, 32), SegmentationConfig())
    assert result.failed and not result.inset_retry
    assert result.failure_reason in FAILURE_REASONS
    assert result.retry_reason in FAILURE_REASONS
    photo, _ = _photo_with_disc()
    right = segment_object(photo, None, SegmentationConfig())
    assert not right.failed and right.retry_reason == ""


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_image_is_unreadable(tmp_path, suffix):
    photo, _ = _photo_with_disc(size=128)
    path = tmp_path / f"photo{suffix}"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    decoded = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    assert np.abs(read_rgb(path).astype(int) - decoded).mean() < 0.5  # same image as OpenCV's
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    if suffix == ".jpg":
        # What this guards against: OpenCV returns the truncated JPEG greyed below the cut.
        assert cv2.imread(str(path)) is not None
    assert read_rgb(path) is None
    load = partial(read_rgb, path)
    assert next(segment_files([(load, None)], SegmentationConfig(iterations=1), 1)) is None


def test_parallel_matches_serial_and_reports_unreadable(tmp_path):
    paths = []
    for seed in range(3):
        photo, _ = _photo_with_disc(seed=seed)
        path = tmp_path / f"p{seed}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        paths.append(path)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not a jpeg")
    tasks = [(partial(read_rgb, p), None) for p in paths] + [
        (partial(read_rgb, corrupt), None),
        (partial(read_rgb, tmp_path / "missing.jpg"), (0.1, 0.1, 0.5, 0.5)),
    ]
    config = SegmentationConfig(iterations=2)
    serial = list(segment_files(tasks, config, workers=1))
    parallel = list(segment_files(tasks, config, workers=2))
    assert serial[3] is None and serial[4] is None
    assert parallel[3] is None and parallel[4] is None
    # OpenCV's thread count (one per worker process) may move a pixel or two of GrabCut's mask.
    for a, b in zip(serial[:3], parallel[:3], strict=True):
        assert _iou(a.mask, b.mask) > 0.99


def test_resolve_workers(monkeypatch):
    # a machine of 8 cores of which this process may use 3 (a container, taskset)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 5}, raising=False)
    assert resolve_workers("auto") == 3  # the cores it may use, not the machine's
    monkeypatch.delattr(os, "sched_getaffinity")  # macOS, Windows: no affinity to ask
    assert resolve_workers("auto") == 8
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown
    assert resolve_workers("auto") == 1
    assert resolve_workers(3) == 3
    with pytest.raises(ValueError, match="positive integer or 'auto'"):
        resolve_workers(0)


def _photos_and_bboxes(root, limit_per_category: int) -> list[tuple[np.ndarray, tuple | None]]:
    """The first photos of each category folder, with no bbox (the real sample has none)."""
    folder = root / "256x256" / "photo" / "tx_000000000000"
    photos = []
    for category in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(category.glob("*.jpg"))[:limit_per_category]:
            photos.append(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))
    return photos


def _pipeline_mask(result) -> np.ndarray:
    # A failed mask is replaced by the whole photo downstream (keep_photo): compare that.
    return np.ones_like(result.mask) if result.failed else result.mask


def _fast_vs_reference(photos: list[np.ndarray]) -> np.ndarray:
    reference, fast = SegmentationConfig(method="full"), SegmentationConfig(method="fast")
    return np.array([
        _iou(_pipeline_mask(segment_object(p, None, fast)), _pipeline_mask(segment_object(p, None, reference)))
        for p in photos
    ])  # fmt: skip


def test_fast_method_finds_the_true_object():
    photo, truth = _photo_with_disc(size=256)
    result = segment_object(photo, None, SegmentationConfig(method="fast"))
    assert not result.failed
    assert result.mask.shape == truth.shape
    assert _iou(result.mask, truth) > 0.95


def test_fast_method_agrees_with_reference_on_synthetic_photos(synthetic_tree):
    ious = _fast_vs_reference(_photos_and_bboxes(synthetic_tree, limit_per_category=1))
    assert ious.mean() >= 0.95, ious


@pytest.mark.sample
def test_fast_method_on_real_sample_is_close_to_reference_for_most_photos(sketchy_sample):
    # GrabCut is chaotic on real photos: the reference with another k-means seed agrees with
    # itself at mean IoU ~0.92-0.95, and the fast method at ~0.82 (benchmark `data`); here
    # the typical photo must still match closely.
    ious = _fast_vs_reference(_photos_and_bboxes(sketchy_sample, limit_per_category=1))
    assert np.median(ious) >= 0.85, ious


def test_masks_do_not_depend_on_what_ran_before():
    photo, _ = _photo_with_disc(size=128, seed=3)
    for method in ("full", "fast"):
        config = SegmentationConfig(method=method, iterations=2)
        first = segment_object(photo, None, config).mask
        cv2.setRNGSeed(12345)  # another random state, as after other photos in a worker
        cv2.randu(np.zeros(7), 0, 1)
        assert np.array_equal(segment_object(photo, None, config).mask, first)


def test_fast_config_is_checked():
    with pytest.raises(ValueError, match="method must be one of"):
        SegmentationConfig(method="quick")
    with pytest.raises(ValueError, match="refine_band"):
        SegmentationConfig(method="fast", refine_band=0)
    with pytest.raises(ValueError, match="coarse_size"):
        SegmentationConfig(method="fast", coarse_size=8)
    # A coarse size above the work size just runs the coarse pass at the work size.
    photo, truth = _photo_with_disc(size=96)
    result = segment_object(photo, None, SegmentationConfig(method="fast", work_size=64))
    assert _iou(result.mask, truth) > 0.85


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
