"""Separate a photo's object from its background with OpenCV GrabCut.

GrabCut is initialised from the object's bounding box when one is known (Sketchy's
``stats.csv``) and otherwise from a rectangle a small margin inside the image border
(Sketchy photos are object-centred). The result is the object composited on white plus its
binary mask. A mask that covers almost nothing or almost everything means GrabCut failed;
:attr:`SegmentationResult.failed` says so and the caller decides what to do.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

BBox = tuple[float, float, float, float]  # x, y, width, height in the photo's pixels


@dataclass(frozen=True)
class SegmentationConfig:
    """How GrabCut runs and when its result counts as failed."""

    iterations: int = 5
    work_size: int = 256  # GrabCut runs on the photo resized to this (longest side)
    default_margin: float = 0.04  # init rectangle inset (fraction of each side) without a bbox
    bbox_padding: float = 0.03  # bboxes are grown by this fraction of the image size
    min_area: float = 0.02  # a mask smaller than this fraction of the image: failed
    max_area: float = 0.97  # a mask larger than this fraction: failed (nothing separated)

    def __post_init__(self) -> None:
        if self.iterations < 1:
            raise ValueError(f"segmentation iterations must be >= 1, got {self.iterations}")
        if self.work_size < 32:
            raise ValueError(f"segmentation work_size must be >= 32 pixels, got {self.work_size}")
        if not 0 <= self.min_area < self.max_area <= 1:
            raise ValueError(
                f"need 0 <= min_area < max_area <= 1, got {self.min_area} and {self.max_area}"
            )


@dataclass(frozen=True)
class SegmentationResult:
    cutout: np.ndarray  # (H, W, 3) uint8 RGB, background white
    mask: np.ndarray  # (H, W) uint8, 1 = object
    area_fraction: float
    failed: bool


def init_rectangle(
    shape: tuple[int, int], bbox: BBox | None, config: SegmentationConfig
) -> tuple[int, int, int, int]:
    """GrabCut's initial rectangle (x, y, w, h), always leaving a 1-pixel background border."""
    height, width = shape
    if bbox is None:
        mx, my = config.default_margin * width, config.default_margin * height
        x0, y0, x1, y1 = mx, my, width - mx, height - my
    else:
        pad_x, pad_y = config.bbox_padding * width, config.bbox_padding * height
        x, y, w, h = bbox
        x0, y0, x1, y1 = x - pad_x, y - pad_y, x + w + pad_x, y + h + pad_y
    # GrabCut needs some definite background outside the rectangle.
    x0, y0 = max(1, round(x0)), max(1, round(y0))
    x1, y1 = min(width - 1, round(x1)), min(height - 1, round(y1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"bounding box {bbox} leaves no object area in a {width}x{height} photo")
    return x0, y0, x1 - x0, y1 - y0


def clean_mask(mask: np.ndarray) -> np.ndarray:
    """Remove speckles and small islands; keep components at least 10% of the largest."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= 0.1 * areas.max()) + 1
    return np.isin(labels, keep).astype(np.uint8)


def composite_on_white(photo: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The object over a white background, with a slightly softened edge."""
    alpha = cv2.GaussianBlur(mask.astype(np.float32), (3, 3), 0)[..., None]
    return np.round(photo * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def segment_object(
    photo: np.ndarray, bbox: BBox | None = None, config: SegmentationConfig | None = None
) -> SegmentationResult:
    """Segment the object of an RGB uint8 photo; ``bbox`` is in the photo's pixels."""
    config = config or SegmentationConfig()
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {photo.dtype} {photo.shape}")
    height, width = photo.shape[:2]
    scale = min(1.0, config.work_size / max(height, width))
    work = photo
    if scale < 1.0:
        work = cv2.resize(
            photo, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
        )
    work_bbox = None if bbox is None else tuple(v * scale for v in bbox)
    rect = init_rectangle(work.shape[:2], work_bbox, config)

    grabcut_mask = np.zeros(work.shape[:2], np.uint8)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(work, cv2.COLOR_RGB2BGR), grabcut_mask, rect,
        background_model, foreground_model, config.iterations, cv2.GC_INIT_WITH_RECT,
    )  # fmt: skip
    mask = ((grabcut_mask == cv2.GC_FGD) | (grabcut_mask == cv2.GC_PR_FGD)).astype(np.uint8)
    mask = clean_mask(mask)
    if scale < 1.0:
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)

    area = float(mask.mean())
    failed = not config.min_area <= area <= config.max_area
    return SegmentationResult(composite_on_white(photo, mask), mask, area, failed)


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray | None:
    """An image file as RGB uint8, or None when it is missing, unreadable or corrupt."""
    image = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _segment_file(task: tuple[str, BBox | None, SegmentationConfig]) -> SegmentationResult | None:
    path, relative_bbox, config = task
    photo = read_rgb(path)
    if photo is None:
        return None
    bbox = None
    if relative_bbox is not None:
        height, width = photo.shape[:2]
        x, y, w, h = relative_bbox
        bbox = (x * width, y * height, w * width, h * height)
    return segment_object(photo, bbox, config)


def _single_threaded_worker() -> None:
    # One OpenCV thread per process: the pool already uses every core.
    cv2.setNumThreads(1)


def segment_files(
    tasks: Iterable[tuple[str, BBox | None]], config: SegmentationConfig, workers: int
) -> Iterator[SegmentationResult | None]:
    """Segment image files in ``workers`` processes, yielding results in input order.

    Each task is a path and an optional bbox in fractions of the photo's width and height.
    ``None`` stands for a file that could not be read. ``forkserver`` keeps workers free of
    whatever the parent process has initialised (TensorFlow threads, for one).
    """
    jobs = [(os.fspath(path), bbox, config) for path, bbox in tasks]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_segment_file, jobs)
        return
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_single_threaded_worker
    ) as pool:
        yield from pool.map(
            _segment_file, jobs, chunksize=max(1, min(8, len(jobs) // (4 * workers)))
        )


def resolve_workers(workers: int | str) -> int:
    """``"auto"`` means every core this process may use."""
    if workers == "auto":
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer or 'auto', got {workers!r}")
    return workers
