"""Move and scale a photo's cut-out object onto the box its sketch drew.

Sketchy's sketches are drawn from memory in the photo's frame, but not at the object's size:
an ant a few pixels long in its photo is drawn across half the canvas. A pair whose target
object is a fifth of its sketch teaches the generator that strokes mean a small dark lump in
their middle. :func:`fit_objects_to_strokes` rescales each cut-out (its mask's bounding box,
aspect kept) to the area of the bounding box of its sketch's strokes, centred on it, over the
white background, so that the photo's object is where and about as large as the sketch drew it.
The area, not the fit inside the box: a clock drawn with its bells on top has a taller box than
the photo's round face, and fitting inside would shrink the clock.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch_to_photo.evaluation.shape_metrics import stroke_masks

BBox = tuple[int, int, int, int]  # x0, y0, x1, y1: the half-open pixel box


def _bounding_box(mask: np.ndarray) -> BBox | None:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if not rows.size:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def fit_object_to_box(photo: np.ndarray, mask: np.ndarray, box: BBox) -> np.ndarray:
    """``photo``'s object (the pixels of ``mask``) scaled to the area of ``box``, aspect kept,
    and centred on it, over white. Parts that land outside the frame are cut off; a photo whose
    mask is empty is returned unchanged."""
    object_box = _bounding_box(mask > 0)
    if object_box is None:
        return photo
    ox0, oy0, ox1, oy1 = object_box
    bx0, by0, bx1, by1 = box
    scale = float(np.sqrt((bx1 - bx0) * (by1 - by0) / ((ox1 - ox0) * (oy1 - oy0))))
    width = max(1, round((ox1 - ox0) * scale))
    height = max(1, round((oy1 - oy0) * scale))
    # Area averaging when shrinking; cubic when enlarging, which keeps a small object's edges.
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    rgb = cv2.resize(photo[oy0:oy1, ox0:ox1], (width, height), interpolation=interpolation)
    alpha = cv2.resize(
        (mask[oy0:oy1, ox0:ox1] > 0).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_LINEAR,
    )
    frame_height, frame_width = photo.shape[:2]
    left = round((bx0 + bx1 - width) / 2)
    top = round((by0 + by1 - height) / 2)
    # The pasted object's rows and columns that fall inside the frame.
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + width, frame_width), min(top + height, frame_height)
    out = np.full(photo.shape, 255.0, np.float32)
    if x0 < x1 and y0 < y1:
        piece = rgb[y0 - top : y1 - top, x0 - left : x1 - left].astype(np.float32)
        weight = alpha[y0 - top : y1 - top, x0 - left : x1 - left, None]
        out[y0:y1, x0:x1] = weight * piece + (1.0 - weight) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def fit_objects_to_strokes(
    sketches: np.ndarray,
    photos: np.ndarray,
    masks: np.ndarray,
    unsegmented: np.ndarray | None = None,
) -> np.ndarray:
    """Each photo's object fitted to the bounding box of its sketch's strokes
    (:func:`fit_object_to_box`).

    ``sketches`` and ``photos`` (N, S, S, 3) uint8, ``masks`` (N, S, S) the cut-outs' object
    masks (non-zero: object). A pair whose sketch has no strokes, whose mask is empty, or that
    ``unsegmented`` (bool (N,)) marks as the whole unsegmented photo (a failed cut-out kept with
    ``segmentation_fallback: keep_photo``: its mask is the frame) keeps its photo as it is.
    """
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
    out = photos.copy()
    for i, strokes in enumerate(stroke_masks(sketches)):
        box = _bounding_box(strokes)
        if box is not None and not (unsegmented is not None and unsegmented[i]):
            out[i] = fit_object_to_box(photos[i], masks[i], box)
    return out
