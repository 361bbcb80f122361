"""Separate a photo's object from its background with OpenCV GrabCut.

GrabCut is initialised from the object's bounding box when one is known (Sketchy's
``stats.csv``) and otherwise from a rectangle a small margin inside the image border
(Sketchy photos are object-centred). The result is the object composited on white plus its
binary mask. A mask that covers almost nothing or almost everything means GrabCut failed;
:attr:`SegmentationResult.failed` says so and the caller decides what to do.

Two methods (``SegmentationConfig.method``):

- ``full``: GrabCut on the photo at ``work_size`` for ``iterations`` rounds (the reference).
- ``fast``: GrabCut on a ``coarse_size`` copy, its mask scaled up to ``work_size``, then one
  GrabCut round at ``work_size`` in which only a band of ``refine_band`` pixels around the
  coarse boundary may change (everything else is fixed foreground or background, so the
  graph cut has little to do). Measured in ``python -m sketch_to_photo.benchmark data``.

OpenCV's GrabCut seeds its colour models with k-means from OpenCV's global random state, so
each photo reseeds it (``seed``): a photo's mask must not depend on which photos a worker
process happened to segment before it.
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
METHODS = ("full", "fast")


@dataclass(frozen=True)
class SegmentationConfig:
    """How GrabCut runs and when its result counts as failed."""

    method: str = "full"  # "full" (reference) or "fast" (coarse GrabCut + boundary band)
    iterations: int = 5  # full: GrabCut rounds at work_size
    work_size: int = 256  # GrabCut runs on the photo resized to this (longest side)
    coarse_size: int = 128  # fast: longest side of the coarse GrabCut (at most work_size)
    coarse_iterations: int = 3  # fast: GrabCut rounds at coarse_size
    refine_band: int = 6  # fast: pixels (at work_size) either side of the coarse boundary
    seed: int = 0  # OpenCV's random state for GrabCut's k-means, reset for every photo
    default_margin: float = 0.04  # init rectangle inset (fraction of each side) without a bbox
    bbox_padding: float = 0.03  # bboxes are grown by this fraction of the image size
    min_area: float = 0.02  # a mask smaller than this fraction of the image: failed
    max_area: float = 0.97  # a mask larger than this fraction: failed (nothing separated)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"segmentation method must be one of {METHODS}, got {self.method!r}")
        if self.iterations < 1 or self.coarse_iterations < 1:
            raise ValueError(
                "segmentation iterations and coarse_iterations must be >= 1, "
                f"got {self.iterations} and {self.coarse_iterations}"
            )
        if self.work_size < 32:
            raise ValueError(f"segmentation work_size must be >= 32 pixels, got {self.work_size}")
        if self.coarse_size < 32:
            raise ValueError(
                f"segmentation coarse_size must be >= 32 pixels, got {self.coarse_size}"
            )
        if self.refine_band < 1:
            raise ValueError(f"segmentation refine_band must be >= 1 pixel, got {self.refine_band}")
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


def _resized(photo: np.ndarray, size: int) -> tuple[np.ndarray, float]:
    """The photo with its longest side at most ``size``, and the scale applied."""
    height, width = photo.shape[:2]
    scale = min(1.0, size / max(height, width))
    if scale == 1.0:
        return photo, scale
    shape = (round(width * scale), round(height * scale))
    return cv2.resize(photo, shape, interpolation=cv2.INTER_AREA), scale


def _foreground(grabcut_mask: np.ndarray) -> np.ndarray:
    return ((grabcut_mask == cv2.GC_FGD) | (grabcut_mask == cv2.GC_PR_FGD)).astype(np.uint8)


def _grabcut_rect(
    work: np.ndarray, rect: tuple[int, int, int, int], iterations: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GrabCut from a rectangle: the label mask and the background/foreground colour models."""
    cv2.setRNGSeed(seed)
    grabcut_mask = np.zeros(work.shape[:2], np.uint8)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(work, cv2.COLOR_RGB2BGR), grabcut_mask, rect,
        background_model, foreground_model, iterations, cv2.GC_INIT_WITH_RECT,
    )  # fmt: skip
    return grabcut_mask, background_model, foreground_model


def _band_labels(coarse: np.ndarray, rect: tuple[int, int, int, int], band: int) -> np.ndarray:
    """GrabCut labels: only pixels within ``band`` of the coarse boundary stay undecided."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band + 1, 2 * band + 1))
    labels = np.full(coarse.shape, cv2.GC_BGD, np.uint8)
    labels[cv2.dilate(coarse, kernel) == 1] = cv2.GC_PR_BGD
    labels[coarse == 1] = cv2.GC_PR_FGD
    labels[cv2.erode(coarse, kernel) == 1] = cv2.GC_FGD
    # Outside GrabCut's rectangle is background in both methods.
    x, y, w, h = rect
    inside = np.zeros(coarse.shape, bool)
    inside[y : y + h, x : x + w] = True
    labels[~inside] = cv2.GC_BGD
    return labels


def _fast_mask(work: np.ndarray, work_bbox: BBox | None, config: SegmentationConfig) -> np.ndarray:
    """Coarse GrabCut, then one round at work size on the band around its boundary."""
    coarse_work, coarse_scale = _resized(work, min(config.coarse_size, config.work_size))
    coarse_bbox = None if work_bbox is None else tuple(v * coarse_scale for v in work_bbox)
    coarse_rect = init_rectangle(coarse_work.shape[:2], coarse_bbox, config)
    coarse_labels, _, _ = _grabcut_rect(
        coarse_work, coarse_rect, config.coarse_iterations, config.seed
    )
    height, width = work.shape[:2]
    # Bilinear on the 0/1 mask then a 0.5 threshold: a smoother edge than nearest-neighbour.
    coarse = cv2.resize(
        _foreground(coarse_labels).astype(np.float32), (width, height),
        interpolation=cv2.INTER_LINEAR,
    )  # fmt: skip
    coarse = (coarse >= 0.5).astype(np.uint8)
    labels = _band_labels(
        coarse, init_rectangle(work.shape[:2], work_bbox, config), config.refine_band
    )
    undecided = (labels == cv2.GC_PR_FGD) | (labels == cv2.GC_PR_BGD)
    has_foreground = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).any()
    if not undecided.any() or not has_foreground:
        return _foreground(labels)  # nothing to refine: the coarse result stands (and fails)
    cv2.setRNGSeed(config.seed)
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(work, cv2.COLOR_RGB2BGR), labels, None,
        background_model, foreground_model, 1, cv2.GC_INIT_WITH_MASK,
    )  # fmt: skip
    return _foreground(labels)


def segment_object(
    photo: np.ndarray, bbox: BBox | None = None, config: SegmentationConfig | None = None
) -> SegmentationResult:
    """Segment the object of an RGB uint8 photo; ``bbox`` is in the photo's pixels."""
    config = config or SegmentationConfig()
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {photo.dtype} {photo.shape}")
    height, width = photo.shape[:2]
    work, scale = _resized(photo, config.work_size)
    work_bbox = None if bbox is None else tuple(v * scale for v in bbox)
    if config.method == "fast":
        mask = _fast_mask(work, work_bbox, config)
    else:
        rect = init_rectangle(work.shape[:2], work_bbox, config)
        mask = _foreground(_grabcut_rect(work, rect, config.iterations, config.seed)[0])
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
