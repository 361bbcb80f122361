"""Separate a photo's object from its background with OpenCV GrabCut.

GrabCut is initialised from a box around the object: Sketchy's bounding box (``stats.csv``)
when known, otherwise the extent of the photo's sketches (:func:`sketch_extent`: Sketchy's
sketches are traced from memory in the photo's own frame, so their ink outlines where the
object is), and without either a rectangle a small margin inside the image border (Sketchy
photos are object-centred). The result is the object composited on white plus its binary mask.

:func:`failure_reason` judges the mask against that box, not only by its area: a mask far
smaller than the box, whose own bounding box disagrees with it, or most of whose pixels lie
outside it, is another object (the leaf the ant sits on); a mask that fills the whole rectangle
separated nothing, and one covering nearly the whole photo is the scene. The caller decides
what to do with a failure (:attr:`SegmentationResult.failure_reason`).
See ``docs/segmentation.md`` for the measurements behind the thresholds.

Two methods (``SegmentationConfig.method``):

- ``full``: GrabCut on the photo at ``work_size`` for ``iterations`` rounds (the reference).
- ``fast``: GrabCut on a ``coarse_size`` copy, its mask scaled up to ``work_size``, then one
  GrabCut round at ``work_size`` in which only a band of ``refine_band`` pixels around the
  coarse boundary may change (everything else is fixed foreground or background, so the
  graph cut has little to do). Measured in ``python -m sketch_to_photo.tools.benchmark data``.

OpenCV's GrabCut seeds its colour models with k-means from OpenCV's global random state, so
each photo reseeds it (``seed``): a photo's mask must not depend on which photos a worker
process happened to segment before it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

BBox = tuple[float, float, float, float]  # x, y, width, height in the photo's pixels
METHODS = ("full", "fast")
INITS = ("sketch_extent", "inset")
# Sketch strokes are black, anti-aliased onto white: a grey level below this is ink.
INK_LEVEL = 200


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
    init: str = "sketch_extent"  # without a stats.csv bbox: "sketch_extent" or "inset"
    default_margin: float = 0.04  # init rectangle inset (fraction of each side) without a box
    bbox_padding: float = 0.03  # boxes are grown by this fraction of the image size
    box_context: float = 0.15  # around a box, this much more may still turn out to be object
    min_area: float = 0.02  # without a box: a mask smaller than this fraction of the image fails
    max_area: float = 0.97  # without a box: a mask larger than this fraction fails
    min_box_fill: float = 0.03  # with a box: a mask smaller than this fraction of it fails
    min_box_iou: float = 0.1  # with a box: the mask's bounding box must overlap it this much
    max_rect_fill: float = 0.97  # a mask covering this much of GrabCut's rectangle: nothing cut
    max_frame_fill: float = 0.85  # a mask covering more of the whole photo: background kept too
    min_mask_in_box: float = 0.55  # with a box: less of the mask inside the padded box: elsewhere

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"segmentation method must be one of {METHODS}, got {self.method!r}")
        if self.init not in INITS:
            raise ValueError(f"segmentation init must be one of {INITS}, got {self.init!r}")
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
        for name in (
            "box_context",
            "min_box_fill",
            "min_box_iou",
            "max_rect_fill",
            "max_frame_fill",
            "min_mask_in_box",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"segmentation {name} must be in [0, 1], got {getattr(self, name)}"
                )


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


FAILURE_REASONS = {
    "too_small": "without a box: the mask covers under min_area of the photo",
    "too_large": "without a box: the mask covers over max_area of the photo",
    "small_for_box": "the mask covers under min_box_fill of the box: a sliver or another object",
    "off_box": "the mask's bounding box overlaps the box under min_box_iou: another object",
    "fills_rect": "the mask covers over max_rect_fill of GrabCut's rectangle: nothing separated",
    "fills_frame": "the mask covers over max_frame_fill of the photo: the background was kept",
    "outside_box": "under min_mask_in_box of the mask lies in the padded box: an object beside it",
}


def ink_box(sketch: np.ndarray) -> BBox | None:
    """The bounding box of a sketch's strokes in its pixels, or None for a blank sketch."""
    grey = sketch if sketch.ndim == 2 else cv2.cvtColor(sketch, cv2.COLOR_RGB2GRAY)
    ys, xs = np.nonzero(grey < INK_LEVEL)
    if len(xs) == 0:
        return None
    return (
        float(xs.min()),
        float(ys.min()),
        float(xs.max() - xs.min() + 1),
        float(ys.max() - ys.min() + 1),
    )


def sketch_extent(boxes: Sequence[BBox]) -> BBox | None:
    """Where a photo's sketches put the object: the median of their boxes, edge by edge.

    The median, not the union: one sketch drawn much larger (or a stray stroke) would
    otherwise widen the box for all, while the typical sketch outlines the object.
    """
    if not boxes:
        return None
    edges = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes], np.float64)
    x0, y0, x1, y1 = np.median(edges, axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


Rect = tuple[int, int, int, int]  # x, y, width, height in whole pixels


def init_rectangle(
    shape: tuple[int, int], bbox: BBox | None, config: SegmentationConfig, padding: float = 0.0
) -> Rect:
    """GrabCut's probable-object rectangle (x, y, w, h), leaving a 1-pixel background border.

    ``padding`` (a fraction of the image size) grows a box further than ``bbox_padding``.
    """
    height, width = shape
    if bbox is None:
        mx, my = config.default_margin * width, config.default_margin * height
        x0, y0, x1, y1 = mx, my, width - mx, height - my
    else:
        pad_x = (config.bbox_padding + padding) * width
        pad_y = (config.bbox_padding + padding) * height
        x, y, w, h = bbox
        x0, y0, x1, y1 = x - pad_x, y - pad_y, x + w + pad_x, y + h + pad_y
    # GrabCut needs some definite background outside the rectangle.
    x0, y0 = max(1, round(x0)), max(1, round(y0))
    x1, y1 = min(width - 1, round(x1)), min(height - 1, round(y1))
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise ValueError(f"bounding box {bbox} leaves no object area in a {width}x{height} photo")
    return x0, y0, x1 - x0, y1 - y0


def _box_iou(a: BBox, b: BBox) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    overlap_w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    overlap_h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    overlap = overlap_w * overlap_h
    return overlap / (aw * ah + bw * bh - overlap)


def failure_reason(
    mask: np.ndarray, bbox: BBox | None, rect: tuple[int, int, int, int], config: SegmentationConfig
) -> str:
    """Why the mask is not the object ("" when it looks right).

    ``bbox`` is the box GrabCut started from (None: the inset rectangle) and ``rect`` the
    rectangle outside which all was background, both in the mask's pixels. With a box, area is
    judged relative to it, so a small object cut out correctly in a large photo is no failure.

    Two rules look at where the mask lies rather than how big it is: ``fills_frame``, a mask
    over ``max_frame_fill`` of the whole photo (the object and its surroundings: the largest
    right cut-outs measured cover 75%), and ``outside_box``, a mask of which under
    ``min_mask_in_box`` lies inside the box grown by ``bbox_padding`` (GrabCut's probable-object
    rectangle): the leaf the ant sits on, a flower around it. ``off_box`` misses those, as it
    compares only the mask's bounding box with the box, and a leaf's surrounds the ant's.
    """
    x, y, w, h = rect
    if mask[y : y + h, x : x + w].mean() > config.max_rect_fill:
        return "fills_rect"
    if mask.mean() > config.max_frame_fill:
        return "fills_frame"
    if not mask.any():
        return "too_small" if bbox is None else "small_for_box"
    if bbox is None:
        area = mask.mean()
        return (
            "too_small" if area < config.min_area else "too_large" if area > config.max_area else ""
        )
    return _box_failure(mask, bbox, config)


def _box_failure(mask: np.ndarray, bbox: BBox, config: SegmentationConfig) -> str:
    """The rules judging a non-empty mask against the box GrabCut started from."""
    height, width = mask.shape
    bx, by, bw, bh = bbox
    # The box may reach past the photo's border: judge the part inside it.
    box = (
        max(0.0, bx),
        max(0.0, by),
        min(width, bx + bw) - max(0.0, bx),
        min(height, by + bh) - max(0.0, by),
    )
    if mask.sum() < config.min_box_fill * box[2] * box[3]:
        return "small_for_box"
    ys, xs = np.nonzero(mask)
    mask_box = (xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
    if _box_iou(mask_box, box) < config.min_box_iou:
        return "off_box"
    px, py, pw, ph = init_rectangle(mask.shape, bbox, config)
    if mask[py : py + ph, px : px + pw].sum() < config.min_mask_in_box * mask.sum():
        return "outside_box"
    return ""


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


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray | None:
    """An image file as RGB uint8, or None when it is missing, unreadable, truncated or corrupt.

    Decoded by Pillow, which raises on a truncated file (``ImageFile.LOAD_TRUNCATED_IMAGES``
    is False by default): OpenCV's ``imread`` returns a JPEG cut to a third of its bytes as
    a whole image with its lower part grey, which would then be trained on as a photo.
    """
    try:
        with Image.open(os.fspath(path)) as image:
            image.load()
            return np.array(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


ImageLoader = Callable[[], np.ndarray | None]


def _segment_file(
    task: tuple[ImageLoader, BBox | None, SegmentationConfig],
) -> SegmentationResult | None:
    load, relative_bbox, config = task
    photo = load()
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
    tasks: Iterable[tuple[ImageLoader, BBox | None]], config: SegmentationConfig, workers: int
) -> Iterator[SegmentationResult | None]:
    """Segment images in ``workers`` processes, yielding results in input order.

    Each task is an image loader (picklable: a worker process decodes the image, for one a
    :meth:`SketchyTree.loader <sketch_to_photo.datasets.SketchyTree.loader>` or
    ``functools.partial(read_rgb, path)``) and an optional bbox in fractions of the photo's
    width and height. ``None`` stands for an image that could not be read. ``forkserver``
    keeps workers free of whatever the parent process has initialised (TensorFlow threads,
    for one).
    """
    jobs = [(load, bbox, config) for load, bbox in tasks]
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
