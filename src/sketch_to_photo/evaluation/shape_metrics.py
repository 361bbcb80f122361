"""Shape metrics that a coloured blob cannot pass (NumPy + OpenCV only).

L1, SSIM and PSNR to the photo a sketch was drawn from reward a blurred average: Sketchy's
sketches are drawn from memory, so the best guess of the pixels is a blob of the object's
colour. The metrics here ask other questions, per image of a batch:

* :func:`stroke_recall` and :func:`chamfer_distance`: does the generated image have its own
  edges (:func:`sketch_to_photo.data.edges.photo_edges`) where the sketch has strokes?
* :func:`hull_fill`: does the image paint the object the sketch outlines (a photo fills the
  convex hull of the strokes; a copy of the sketch paints only the strokes)?

Whether a set of images looks like real photos is
:mod:`sketch_to_photo.evaluation.photo_likeness`.

Images are uint8 (N, S, S, 3) RGB: sketches are dark strokes on white, photos are object
cut-outs on white. A stroke is a pixel whose grey level is under
:data:`sketch_to_photo.prediction.preprocessing.INK_LEVEL`; an image "paints" a pixel when any
channel is more than :data:`PAINT_THRESHOLD` below white.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch_to_photo.data.edges import photo_edges
from sketch_to_photo.prediction.preprocessing import INK_LEVEL

# A pixel is painted when max over channels of (255 - value) exceeds this: the white background
# of a cut-out (and JPEG noise around 250) is not, an anti-aliased stroke or a pale object is.
PAINT_THRESHOLD = 25


def check_batch(images: np.ndarray, name: str) -> None:
    """Refuse anything but a batch of RGB uint8 images (N, S, S, 3), naming the argument."""
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[3] != 3:
        raise ValueError(
            f"{name} must be (N, S, S, 3) uint8 RGB, got {images.shape} {images.dtype}"
        )


def _check_pair(sketches: np.ndarray, images: np.ndarray) -> None:
    check_batch(sketches, "sketches")
    check_batch(images, "images")
    if sketches.shape != images.shape:
        raise ValueError(f"sketches {sketches.shape} and images {images.shape} differ in shape")


def stroke_masks(sketches: np.ndarray) -> np.ndarray:
    """Stroke pixels of each sketch: bool (N, S, S), grey level under ``INK_LEVEL``."""
    check_batch(sketches, "sketches")
    return grey_levels(sketches) < INK_LEVEL


def painted_masks(images: np.ndarray, paint_threshold: int = PAINT_THRESHOLD) -> np.ndarray:
    """Pixels each image paints: bool (N, S, S), any channel more than ``paint_threshold``
    below white (a max over channels, so a saturated yellow counts though its grey is light)."""
    check_batch(images, "images")
    darkest = np.minimum(np.minimum(images[..., 0], images[..., 1]), images[..., 2])
    return darkest < 255 - paint_threshold


def grey_levels(images: np.ndarray) -> np.ndarray:
    """Grey levels of a batch, uint8 (N, S, S), as ``cv2.COLOR_RGB2GRAY`` computes them."""
    n, h, w, _ = images.shape
    flat = np.ascontiguousarray(images).reshape(n * h, w, 3)  # a pointwise conversion
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(n, h, w)


def _distance_to(mask: np.ndarray) -> np.ndarray:
    """Euclidean distance (pixels) of every pixel to the nearest pixel of ``mask`` (not empty)."""
    return cv2.distanceTransform(
        np.where(mask, 0, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE
    )


def stroke_recall(sketches: np.ndarray, images: np.ndarray, tolerance: float = 2.0) -> np.ndarray:
    """Share of each sketch's stroke pixels with an edge of the image within ``tolerance`` px.

    Shape (N,) float: 0 when the image has no edges (a flat blob has few), NaN when the sketch
    has no strokes (average with ``np.nanmean``). Sketchy's sketches are drawn from memory, so
    even the photo a sketch was drawn from reaches only about 0.65 at 64 px.
    """
    _check_pair(sketches, images)
    strokes = stroke_masks(sketches)
    edges = photo_edges(images)
    out = np.full(len(sketches), np.nan)
    for i, (stroke, edge) in enumerate(zip(strokes, edges, strict=True)):
        if not stroke.any():
            continue
        out[i] = float(np.mean(_distance_to(edge)[stroke] <= tolerance)) if edge.any() else 0.0
    return out


def chamfer_distance(sketches: np.ndarray, images: np.ndarray) -> np.ndarray:
    """Symmetric chamfer distance (pixels) between each sketch's strokes and the image's edges.

    (mean over strokes of the distance to the nearest edge + mean over edges of the distance to
    the nearest stroke) / 2, so missing outlines and spurious edges both cost. Shape (N,)
    float; an image without edges gets the image diagonal (a finite worst value), a sketch
    without strokes NaN.
    """
    _check_pair(sketches, images)
    strokes = stroke_masks(sketches)
    edges = photo_edges(images)
    diagonal = float(np.hypot(*sketches.shape[1:3]))
    out = np.full(len(sketches), np.nan)
    for i, (stroke, edge) in enumerate(zip(strokes, edges, strict=True)):
        if not stroke.any():
            continue
        if not edge.any():
            out[i] = diagonal
            continue
        to_edge = float(_distance_to(edge)[stroke].mean())
        to_stroke = float(_distance_to(stroke)[edge].mean())
        out[i] = (to_edge + to_stroke) / 2.0
    return out


def hull_fill(
    sketches: np.ndarray, images: np.ndarray, paint_threshold: int = PAINT_THRESHOLD
) -> np.ndarray:
    """Share of the convex hull of each sketch's strokes that the image paints.

    A photo of the object fills its outline; a copy of the sketch paints only the strokes and
    an empty or tiny output almost nothing. Painting the whole image also scores 1, so read it
    with the photo-likeness (whose ``painted_share`` feature catches that). Shape (N,) float;
    NaN when the sketch has no strokes. See :func:`painted_masks` for ``paint_threshold``.
    """
    _check_pair(sketches, images)
    strokes = stroke_masks(sketches)
    painted = painted_masks(images, paint_threshold)
    out = np.full(len(sketches), np.nan)
    for i, (stroke, paint) in enumerate(zip(strokes, painted, strict=True)):
        rows, cols = np.nonzero(stroke)
        if rows.size == 0:
            continue
        points = np.stack([cols, rows], axis=1).astype(np.int32)
        hull = np.zeros(stroke.shape, np.uint8)
        cv2.fillConvexPoly(hull, cv2.convexHull(points), 1)
        inside = hull.astype(bool)
        out[i] = float(paint[inside].mean())
    return out
