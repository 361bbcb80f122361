"""Whether a GrabCut mask is the object: judged against the box GrabCut started from.

:func:`failure_reason` judges the mask against that box, not only by its area: a mask far
smaller than the box, whose own bounding box disagrees with it, or most of whose pixels lie
outside it, is another object (the leaf the ant sits on); a mask that fills the whole rectangle
separated nothing, and one covering nearly the whole photo is the scene. The caller decides
what to do with a failure
(:attr:`~sketch_to_photo.data.segmentation.grabcut.SegmentationResult.failure_reason`).
See ``docs/segmentation.md`` for the measurements behind the thresholds.
"""

from __future__ import annotations

import numpy as np

from sketch_to_photo.data.segmentation.boxes import BBox, init_rectangle
from sketch_to_photo.data.segmentation.config import SegmentationConfig

FAILURE_REASONS = {
    "too_small": "without a box: the mask covers under min_area of the photo",
    "too_large": "without a box: the mask covers over max_area of the photo",
    "small_for_box": "the mask covers under min_box_fill of the box: a sliver or another object",
    "off_box": "the mask's bounding box overlaps the box under min_box_iou: another object",
    "fills_rect": "the mask covers over max_rect_fill of GrabCut's rectangle: nothing separated",
    "fills_frame": "the mask covers over max_frame_fill of the photo: the background was kept",
    "outside_box": "under min_mask_in_box of the mask lies in the padded box: an object beside it",
}


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
