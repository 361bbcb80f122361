"""Image files segmented: truncated files are unreadable, worker processes match one, the
worker count."""

import os
from functools import partial

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.files import read_rgb, resolve_workers, segment_files
from tests.data.segmentation.photos import iou, photo_with_disc


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_image_is_unreadable(tmp_path, suffix):
    photo, _ = photo_with_disc(size=128)
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
        photo, _ = photo_with_disc(seed=seed)
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
        assert iou(a.mask, b.mask) > 0.99


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
