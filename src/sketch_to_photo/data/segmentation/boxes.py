"""Where the object is, as a box, and GrabCut's rectangle from it.

GrabCut is initialised from a box around the object: Sketchy's bounding box (``stats.csv``)
when known, otherwise the extent of the photo's sketches (:func:`sketch_extent`: Sketchy's
sketches are traced from memory in the photo's own frame, so their ink outlines where the
object is), and without either a rectangle a small margin inside the image border (Sketchy
photos are object-centred).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from sketch_to_photo.data.segmentation.config import SegmentationConfig

BBox = tuple[float, float, float, float]  # x, y, width, height in the photo's pixels
# Sketch strokes are black, anti-aliased onto white: a grey level below this is ink.
INK_LEVEL = 200


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
