"""Segment one photo with GrabCut: the object composited on white plus its binary mask.

Two methods (``SegmentationConfig.method``):

- ``full``: GrabCut on the photo at ``work_size`` for ``iterations`` rounds (the reference).
- ``fast``: GrabCut on a ``coarse_size`` copy, its mask scaled up to ``work_size``, then one
  GrabCut round at ``work_size`` in which only a band of ``refine_band`` pixels around the
  coarse boundary may change (everything else is fixed foreground or background, so the
  graph cut has little to do). Measured in ``python -m sketch_to_photo.tools.benchmark data``.

When the cut from a box fails (:mod:`.failures`), the cut from the inset rectangle, judged
against the same box, replaces it if it passes.

OpenCV's GrabCut seeds its colour models with k-means from OpenCV's global random state, so
each photo reseeds it (``seed``): a photo's mask must not depend on which photos a worker
process happened to segment before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sketch_to_photo.data.segmentation.boxes import BBox, Rect, init_rectangle
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.failures import failure_reason


@dataclass(frozen=True)
class SegmentationResult:
    cutout: np.ndarray  # (H, W, 3) uint8 RGB, background white
    mask: np.ndarray  # (H, W) uint8, 1 = object
    area_fraction: float
    failure_reason: str  # "" when the mask looks right, else one of FAILURE_REASONS
    inset_retry: bool = False  # the box's cut failed; this one is from the inset rectangle
    # The box's cut failed and so did the inset rectangle's, judged against the same box: why
    # the latter failed ("" when it passed or was not tried). failure_reason is the box's.
    retry_reason: str = ""

    @property
    def failed(self) -> bool:
        return bool(self.failure_reason)


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


def _rects(
    shape: tuple[int, int], bbox: BBox | None, config: SegmentationConfig
) -> tuple[Rect, Rect]:
    """The probable-object rectangle and the outer one beyond which all is background.

    Sketches drawn from memory are often smaller than the object or shifted (an alarm clock
    drawn as its face): the ring of ``box_context`` around the box starts as probable
    background that GrabCut may still give to the object, where a plain rectangle would cut
    the object at the box's edge.
    """
    inner = init_rectangle(shape, bbox, config)
    return inner, (
        inner if bbox is None else init_rectangle(shape, bbox, config, config.box_context)
    )


def _grabcut_rects(
    work: np.ndarray, inner: Rect, outer: Rect, iterations: int, seed: int
) -> np.ndarray:
    """GrabCut's labels, started from probable object in ``inner`` and probable background
    in the rest of ``outer`` (with ``inner == outer``, exactly GrabCut's rectangle mode)."""
    cv2.setRNGSeed(seed)
    labels = np.full(work.shape[:2], cv2.GC_BGD, np.uint8)
    for rect, label in ((outer, cv2.GC_PR_BGD), (inner, cv2.GC_PR_FGD)):
        x, y, w, h = rect
        labels[y : y + h, x : x + w] = label
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.grabCut(
        cv2.cvtColor(work, cv2.COLOR_RGB2BGR), labels, None,
        background_model, foreground_model, iterations, cv2.GC_INIT_WITH_MASK,
    )  # fmt: skip
    return labels


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
    coarse_labels = _grabcut_rects(
        coarse_work,
        *_rects(coarse_work.shape[:2], coarse_bbox, config),
        config.coarse_iterations,
        config.seed,
    )
    height, width = work.shape[:2]
    # Bilinear on the 0/1 mask then a 0.5 threshold: a smoother edge than nearest-neighbour.
    coarse = cv2.resize(
        _foreground(coarse_labels).astype(np.float32), (width, height),
        interpolation=cv2.INTER_LINEAR,
    )  # fmt: skip
    coarse = (coarse >= 0.5).astype(np.uint8)
    labels = _band_labels(coarse, _rects(work.shape[:2], work_bbox, config)[1], config.refine_band)
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
    work_mask, rect = _work_mask(work, work_bbox, config)
    reason = failure_reason(work_mask, work_bbox, rect, config)
    inset_retry, retry_reason = False, ""
    if reason and work_bbox is not None:
        # The box can miss: a guitar sketched as its neck leaves the body outside, where
        # GrabCut learns its colours as background and keeps nothing. The inset rectangle's
        # cut, judged against the same box, replaces it when it passes.
        retry_mask, retry_rect = _work_mask(work, None, config)
        retry_reason = failure_reason(retry_mask, work_bbox, retry_rect, config)
        if not retry_reason:
            work_mask, reason, inset_retry = retry_mask, "", True
    mask = work_mask
    if scale < 1.0:
        mask = cv2.resize(work_mask, (width, height), interpolation=cv2.INTER_NEAREST)
    return SegmentationResult(
        composite_on_white(photo, mask), mask, float(mask.mean()), reason, inset_retry, retry_reason
    )


def _work_mask(
    work: np.ndarray, work_bbox: BBox | None, config: SegmentationConfig
) -> tuple[np.ndarray, Rect]:
    """The cleaned GrabCut mask and the rectangle outside which all was background."""
    inner, outer = _rects(work.shape[:2], work_bbox, config)
    if config.method == "fast":
        return clean_mask(_fast_mask(work, work_bbox, config)), outer
    labels = _grabcut_rects(work, inner, outer, config.iterations, config.seed)
    return clean_mask(_foreground(labels)), outer
