"""One photo segmented: full and fast GrabCut, from a box or the inset rectangle, the inset
retry, and masks that do not depend on what ran before."""

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.failures import FAILURE_REASONS
from sketch_to_photo.data.segmentation.grabcut import segment_object
from tests.data.segmentation.photos import iou, photo_with_disc


def test_segments_object_onto_white():
    photo, truth = photo_with_disc()
    result = segment_object(photo)
    assert not result.failed
    assert iou(result.mask, truth) > 0.9
    assert result.cutout.shape == photo.shape and result.cutout.dtype == np.uint8
    assert (result.cutout[truth == 0][:, :] > 240).all(axis=1).mean() > 0.95  # background white
    assert np.abs(result.cutout[truth == 1].astype(int) - (210, 30, 40)).mean() < 10


def test_bbox_initialisation_and_downscaled_work_size():
    photo, truth = photo_with_disc(size=256)
    ys, xs = np.nonzero(truth)
    bbox = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    result = segment_object(photo, bbox, SegmentationConfig(work_size=96))
    assert result.mask.shape == truth.shape
    assert iou(result.mask, truth) > 0.85


def test_featureless_photo_is_flagged_failed():
    flat = np.full((64, 64, 3), 128, np.uint8)
    result = segment_object(flat)
    assert result.failed
    assert result.failure_reason in {"too_small", "fills_rect"}


def test_rejects_non_rgb_input():
    with pytest.raises(ValueError, match="RGB uint8"):
        segment_object(np.zeros((10, 10), np.uint8))


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
    assert iou(result.mask, truth) > 0.85


def test_a_box_inside_a_larger_object_falls_back_to_the_inset_rectangle():
    # Sketched as a part of it: from the box, the object's own colours lie all around and
    # GrabCut separates nothing there; the inset rectangle's cut agrees with the box and wins.
    photo, _ = photo_with_disc(size=128)
    truth = np.zeros((128, 128), np.uint8)
    cv2.circle(truth, (64, 64), 50, 1, -1)
    photo[truth == 1] = (210, 30, 40)
    box = (44, 34, 40, 60)
    result = segment_object(photo, box, SegmentationConfig(min_mask_in_box=0.3))
    assert result.inset_retry and result.failure_reason == ""
    assert iou(result.mask, truth) > 0.9
    assert not segment_object(photo, None, SegmentationConfig()).inset_retry
    # The price of outside_box: 42% of this disc lies in the padded box, and at the default
    # 0.55 the retry is refused like the flower around an ant (measured: 2 right cut-outs, a
    # guitar and an alarm clock, lost this way against 29 wrong ones caught).
    refused = segment_object(photo, box, SegmentationConfig())
    assert refused.failed and not refused.inset_retry
    assert refused.retry_reason == "outside_box"


def test_the_inset_retry_reason_is_kept_when_it_fails_too():
    flat = np.full((64, 64, 3), 128, np.uint8)  # nothing to separate from either start
    result = segment_object(flat, (16, 16, 32, 32), SegmentationConfig())
    assert result.failed and not result.inset_retry
    assert result.failure_reason in FAILURE_REASONS
    assert result.retry_reason in FAILURE_REASONS
    photo, _ = photo_with_disc()
    right = segment_object(photo, None, SegmentationConfig())
    assert not right.failed and right.retry_reason == ""


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
        iou(_pipeline_mask(segment_object(p, None, fast)), _pipeline_mask(segment_object(p, None, reference)))
        for p in photos
    ])  # fmt: skip


def test_fast_method_finds_the_true_object():
    photo, truth = photo_with_disc(size=256)
    result = segment_object(photo, None, SegmentationConfig(method="fast"))
    assert not result.failed
    assert result.mask.shape == truth.shape
    assert iou(result.mask, truth) > 0.95


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
    photo, _ = photo_with_disc(size=128, seed=3)
    for method in ("full", "fast"):
        config = SegmentationConfig(method=method, iterations=2)
        first = segment_object(photo, None, config).mask
        cv2.setRNGSeed(12345)  # another random state, as after other photos in a worker
        cv2.randu(np.zeros(7), 0, 1)
        assert np.array_equal(segment_object(photo, None, config).mask, first)
