"""Shape metrics on small drawn fixtures (cv2 shapes)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from sketch_to_photo.evaluation.shape_metrics import (
    PAINT_THRESHOLD,
    chamfer_distance,
    hull_fill,
    painted_masks,
    stroke_masks,
    stroke_recall,
)

SIZE = 64
CENTRE = (32, 32)
RADIUS = 16


def white_canvas() -> np.ndarray:
    return np.full((SIZE, SIZE, 3), 255, np.uint8)


def _circle_sketch(centre: tuple[int, int] = CENTRE, radius: int = RADIUS) -> np.ndarray:
    sketch = white_canvas()
    cv2.circle(sketch, centre, radius, (0, 0, 0), 1)
    return sketch


def _disc(
    centre: tuple[int, int] = CENTRE,
    radius: int = RADIUS,
    colour: tuple[int, int, int] = (180, 60, 40),
) -> np.ndarray:
    image = white_canvas()
    cv2.circle(image, centre, radius, colour, -1)
    return image


def batch_of(*images: np.ndarray) -> np.ndarray:
    return np.stack(images)


def test_a_matching_disc_recalls_the_strokes_and_a_shifted_one_does_not():
    sketches = batch_of(_circle_sketch(), _circle_sketch())
    images = batch_of(_disc(), _disc(centre=(42, 32)))
    recall = stroke_recall(sketches, images)
    chamfer = chamfer_distance(sketches, images)
    assert recall[0] > 0.95 and recall[1] < 0.4
    assert chamfer[0] < 1.5 and chamfer[1] > 4.0


def test_tolerance_decides_how_far_an_edge_may_be():
    sketches = batch_of(_circle_sketch())
    images = batch_of(_disc(centre=(36, 32)))  # the outline 4 px off on the left and right
    tight = stroke_recall(sketches, images, tolerance=1.0)[0]
    loose = stroke_recall(sketches, images, tolerance=5.0)[0]
    assert loose > 0.95 and tight < loose - 0.2


def test_spurious_edges_cost_chamfer_but_not_recall():
    sketches = batch_of(_circle_sketch(), _circle_sketch())
    cluttered = _disc()
    cv2.rectangle(cluttered, (2, 2), (12, 12), (20, 20, 20), -1)  # an object the sketch lacks
    images = batch_of(_disc(), cluttered)
    recall = stroke_recall(sketches, images)
    chamfer = chamfer_distance(sketches, images)
    assert recall[1] == pytest.approx(recall[0], abs=0.02)
    assert chamfer[1] > chamfer[0] + 2.0


def test_no_edges_gives_zero_recall_and_the_diagonal_and_no_strokes_gives_nan():
    sketches = batch_of(_circle_sketch(), white_canvas())
    images = batch_of(white_canvas(), _disc())
    recall = stroke_recall(sketches, images)
    chamfer = chamfer_distance(sketches, images)
    fill = hull_fill(sketches, images)
    assert recall[0] == 0.0 and chamfer[0] == pytest.approx(np.hypot(SIZE, SIZE))
    assert np.isnan(recall[1]) and np.isnan(chamfer[1]) and np.isnan(fill[1])


def test_hull_fill_prefers_the_filled_object_to_a_copy_of_the_sketch():
    sketch = _circle_sketch()
    half = _disc()
    half[:, CENTRE[0] :] = 255  # only the left half of the object
    fill = hull_fill(batch_of(sketch, sketch, sketch), batch_of(_disc(), sketch, half))
    assert fill[0] > 0.95  # the hull includes the stroke ring, which the disc nearly covers
    assert fill[1] < 0.25  # the strokes are a thin ring of the hull
    assert fill[2] == pytest.approx(0.5, abs=0.06)


def test_paint_threshold_separates_paper_white_from_pale_colour():
    sketch = _circle_sketch()
    almost_white = _disc(colour=(255 - PAINT_THRESHOLD + 5,) * 3)
    pale = _disc(colour=(255, 255, 255 - PAINT_THRESHOLD - 5))  # pale yellow: only blue is low
    fill = hull_fill(batch_of(sketch, sketch), batch_of(almost_white, pale))
    assert fill[0] == 0.0 and fill[1] > 0.95
    assert painted_masks(batch_of(pale))[0, CENTRE[1], CENTRE[0]]


def test_strokes_are_pixels_darker_than_the_ink_level():
    sketch = white_canvas()
    sketch[10, 10] = 199  # ink
    sketch[20, 20] = 201  # too light to be a stroke
    strokes = stroke_masks(batch_of(sketch))[0]
    assert strokes[10, 10] and not strokes[20, 20] and strokes.sum() == 1


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="differ in shape"):
        stroke_recall(batch_of(_circle_sketch()), batch_of(_disc(), _disc()))
    with pytest.raises(ValueError, match="uint8"):
        hull_fill(batch_of(_circle_sketch()).astype(np.float32), batch_of(_disc()))


def test_the_module_does_not_import_tensorflow():
    code = (
        "import sys, sketch_to_photo.evaluation.shape_metrics; "
        "sys.exit('tensorflow' in sys.modules or 'kedro' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
