import cv2
import numpy as np
import pytest

from sketch_to_photo.segmentation import (
    SegmentationConfig,
    init_rectangle,
    resolve_workers,
    segment_files,
    segment_object,
)


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
    assert not (0.02 <= result.area_fraction <= 0.97)


def test_init_rectangle_keeps_a_background_border():
    config = SegmentationConfig()
    assert init_rectangle((100, 200), (0, 0, 200, 100), config) == (1, 1, 198, 98)
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


def test_parallel_matches_serial_and_reports_unreadable(tmp_path):
    paths = []
    for seed in range(3):
        photo, _ = _photo_with_disc(seed=seed)
        path = tmp_path / f"p{seed}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        paths.append(path)
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8 not a jpeg")
    tasks = [(p, None) for p in paths] + [
        (corrupt, None),
        (tmp_path / "missing.jpg", (0.1, 0.1, 0.5, 0.5)),
    ]
    config = SegmentationConfig(iterations=2)
    serial = list(segment_files(tasks, config, workers=1))
    parallel = list(segment_files(tasks, config, workers=2))
    assert serial[3] is None and serial[4] is None
    assert parallel[3] is None and parallel[4] is None
    # OpenCV's thread count (one per worker process) may move a pixel or two of GrabCut's mask.
    for a, b in zip(serial[:3], parallel[:3], strict=True):
        assert _iou(a.mask, b.mask) > 0.99


def test_resolve_workers():
    assert resolve_workers("auto") >= 1
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
