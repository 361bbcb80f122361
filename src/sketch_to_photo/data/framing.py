"""Align a real sketch and its photo's cut-out object: one is scaled onto the other's box.

Sketchy's sketches are drawn from memory in the photo's frame, but not at the object's size:
an ant a few pixels long in its photo is drawn across half the canvas. A pair whose target
object is a fifth of its sketch teaches the generator that strokes mean a small dark lump in
their middle. :func:`align_pairs` moves and scales, aspect kept, either the photo's object (its
mask's bounding box) onto the bounding box of the sketch's strokes (``photo_to_sketch``), or
the strokes onto the object (``sketch_to_photo``: the photo keeps its own pixels, so a small
object is not enlarged into a blurred target), centred on the other's box and matching its
area. The area, not the fit inside the box: a clock drawn with its bells on top has a taller
box than the photo's round face, and fitting inside would shrink the clock.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch_to_photo.data.edges import REFERENCE_SIZE
from sketch_to_photo.evaluation.shape_metrics import stroke_masks

ALIGNMENTS = ("none", "photo_to_sketch", "sketch_to_photo")
STROKE_WIDTH = 2  # pixels at 256 px, Sketchy's pen (as the edge maps draw theirs)
BBox = tuple[int, int, int, int]  # x0, y0, x1, y1: the half-open pixel box


def _bounding_box(mask: np.ndarray) -> BBox | None:
    if not mask.any():
        return None
    x, y, width, height = cv2.boundingRect(mask.astype(np.uint8))
    return x, y, x + width, y + height


def _placement(source: BBox, target: BBox) -> tuple[float, int, int, int, int]:
    """Scale, size and top-left corner that give ``source``'s box the area of ``target``'s,
    aspect kept, centred on it."""
    sx0, sy0, sx1, sy1 = source
    tx0, ty0, tx1, ty1 = target
    scale = float(np.sqrt((tx1 - tx0) * (ty1 - ty0) / ((sx1 - sx0) * (sy1 - sy0))))
    width = max(1, round((sx1 - sx0) * scale))
    height = max(1, round((sy1 - sy0) * scale))
    return scale, width, height, round((tx0 + tx1 - width) / 2), round((ty0 + ty1 - height) / 2)


def _paste(canvas: np.ndarray, piece: np.ndarray, weight: np.ndarray, left: int, top: int) -> None:
    """Blend ``piece`` over ``canvas`` (float32, in place) with ``weight`` at (left, top); the
    parts beyond the frame are cut off."""
    frame_height, frame_width = canvas.shape[:2]
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + piece.shape[1], frame_width), min(top + piece.shape[0], frame_height)
    if x0 >= x1 or y0 >= y1:
        return
    rows, cols = slice(y0 - top, y1 - top), slice(x0 - left, x1 - left)
    alpha = weight[rows, cols]
    if canvas.ndim == 3:  # colour: one weight for the three channels
        alpha = alpha[..., None]
    canvas[y0:y1, x0:x1] = alpha * piece[rows, cols] + (1.0 - alpha) * canvas[y0:y1, x0:x1]


def fit_object_to_box(photo: np.ndarray, mask: np.ndarray, box: BBox) -> np.ndarray:
    """``photo``'s object (the pixels of ``mask``) scaled to the area of ``box``, aspect kept,
    and centred on it, over white. Parts that land outside the frame are cut off; a photo whose
    mask is empty is returned unchanged."""
    object_box = _bounding_box(mask > 0)
    return photo if object_box is None else _fit_object(photo, mask, object_box, box)


def _fit_object(photo: np.ndarray, mask: np.ndarray, object_box: BBox, box: BBox) -> np.ndarray:
    ox0, oy0, ox1, oy1 = object_box
    scale, width, height, left, top = _placement(object_box, box)
    # Area averaging when shrinking; cubic when enlarging, which keeps a small object's edges.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(photo[oy0:oy1, ox0:ox1], (width, height), interpolation=interpolation)
    alpha = (mask[oy0:oy1, ox0:ox1] > 0).astype(np.float32)
    alpha = cv2.resize(alpha, (width, height), interpolation=cv2.INTER_LINEAR)
    out = np.full(photo.shape, 255.0, np.float32)
    _paste(out, rgb.astype(np.float32), alpha, left, top)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def fit_strokes_to_box(strokes: np.ndarray, box: BBox) -> np.ndarray:
    """A sketch (S, S, 3) uint8, black on white, of ``strokes`` (bool (S, S)) moved and scaled
    to the area of ``box``, aspect kept, centred on it. The strokes keep Sketchy's pen width
    whatever the scale: a shrunk drawing is not left with faint hairlines, nor an enlarged one
    with a marker's."""
    stroke_box = _bounding_box(strokes)
    size = strokes.shape[0]
    if stroke_box is None:
        return np.full((*strokes.shape, 3), 255, np.uint8)
    x0, y0, x1, y1 = stroke_box
    scale, width, height, left, top = _placement(stroke_box, box)
    ink = strokes[y0:y1, x0:x1].astype(np.float32)
    pen = max(1, round(STROKE_WIDTH * size / REFERENCE_SIZE))
    if scale < 1:  # any ink in a shrunk pixel is a stroke, then back to the pen's width
        ink = cv2.resize(ink, (width, height), interpolation=cv2.INTER_AREA) > 0.2
        ink = cv2.dilate(ink.astype(np.uint8), np.ones((pen, pen), np.uint8)) if pen > 1 else ink
    else:  # a pen-wide stroke grew to pen x scale: thinned back by the difference
        ink = cv2.resize(ink, (width, height), interpolation=cv2.INTER_LINEAR) > 0.5
        extra = round(pen * (scale - 1))
        if extra > 0:
            ink = cv2.erode(ink.astype(np.uint8), np.ones((extra + 1,) * 2, np.uint8))
    canvas = np.zeros(strokes.shape, np.float32)
    _paste(canvas, np.ones(ink.shape, np.float32), np.asarray(ink, np.float32), left, top)
    sketch = np.where(canvas > 0.5, 0, 255).astype(np.uint8)
    return np.repeat(sketch[..., None], 3, axis=2)


def align_pairs(
    sketches: np.ndarray,
    photos: np.ndarray,
    masks: np.ndarray,
    unsegmented: np.ndarray | None = None,
    *,
    mode: str = "photo_to_sketch",
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs with each photo's object and its sketch's strokes on the same box.

    ``photo_to_sketch`` moves the object onto the strokes' box (:func:`fit_object_to_box`);
    ``sketch_to_photo`` moves the strokes onto the object's (:func:`fit_strokes_to_box`);
    ``none`` changes nothing. ``sketches`` and ``photos`` (N, S, S, 3) uint8, ``masks``
    (N, S, S) the cut-outs' object masks (non-zero: object). A pair whose sketch has no strokes,
    whose mask is empty, or that ``unsegmented`` (bool (N,)) marks as the whole unsegmented
    photo (a failed cut-out kept with ``segmentation_fallback: keep_photo``: its mask is the
    frame) is left as it is.
    """
    if mode not in ALIGNMENTS:
        raise ValueError(f"pair alignment must be one of {ALIGNMENTS}, got {mode!r}")
    if not len(sketches) == len(photos) == len(masks):
        raise ValueError(
            f"{len(sketches)} sketches, {len(photos)} photos and {len(masks)} masks: "
            "each pair needs all three"
        )
    if photos.shape[1:3] != masks.shape[1:3] or sketches.shape[1:3] != photos.shape[1:3]:
        raise ValueError(
            f"sketches {sketches.shape[1:3]}, photos {photos.shape[1:3]} and masks "
            f"{masks.shape[1:3]} must have the same size"
        )
    if mode == "none":
        return sketches, photos
    sketches, photos = sketches.copy(), photos.copy()
    for i, strokes in enumerate(stroke_masks(sketches)):
        stroke_box, object_box = _bounding_box(strokes), _bounding_box(masks[i] > 0)
        if stroke_box is None or object_box is None or (unsegmented is not None and unsegmented[i]):
            continue
        if mode == "photo_to_sketch":
            photos[i] = _fit_object(photos[i], masks[i], object_box, stroke_box)
        else:
            sketches[i] = fit_strokes_to_box(strokes, object_box)
    return sketches, photos
