"""Aligning a sketch and its photo's cut-out: one scaled onto the other's box."""

from __future__ import annotations

import numpy as np
import pytest

from sketch_to_photo.data.framing import align_pairs, fit_object_to_box

SIZE = 128
RED = (200, 30, 30)


def _photo_with_object(x0: int, y0: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """A cut-out: a red rectangle with a blue left half (tells a mirror), on white."""
    photo = np.full((SIZE, SIZE, 3), 255, np.uint8)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    photo[y0 : y0 + height, x0 : x0 + width] = RED
    photo[y0 : y0 + height, x0 : x0 + width // 2] = (30, 30, 200)
    mask[y0 : y0 + height, x0 : x0 + width] = 1
    return photo, mask


def _sketch_box(x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """A sketch whose strokes are the outline of the box (x0, y0)-(x1, y1), half-open."""
    sketch = np.full((SIZE, SIZE, 3), 255, np.uint8)
    sketch[y0:y1, x0] = sketch[y0:y1, x1 - 1] = 0
    sketch[y0, x0:x1] = sketch[y1 - 1, x0:x1] = 0
    return sketch


def _painted_box(image: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero((image < 245).any(axis=2))
    return int(cols.min()), int(rows.min()), int(cols.max()) + 1, int(rows.max()) + 1


def test_a_small_object_grows_to_the_area_of_the_drawn_box_centred_on_it():
    photo, mask = _photo_with_object(10, 10, 10, 10)  # a 10 px square in the corner
    sketch = _sketch_box(40, 50, 120, 110)  # drawn 80 x 60, elsewhere
    aligned_sketch, fitted = align_pairs(sketch[None], photo[None], mask[None])
    np.testing.assert_array_equal(aligned_sketch[0], sketch)  # the sketch stays as drawn
    fitted = fitted[0]
    x0, y0, x1, y1 = _painted_box(fitted)
    side = np.sqrt(80 * 60)  # the area of the box, aspect kept (a square stays square)
    assert abs((x1 - x0) - side) <= 2 and abs((y1 - y0) - side) <= 2
    assert abs((x0 + x1) / 2 - 80) <= 1 and abs((y0 + y1) / 2 - 80) <= 1  # the box's centre
    # the object's colours, not mirrored: blue on the left, red on the right, white around
    centre_row = fitted[(y0 + y1) // 2]
    assert centre_row[x0 + 5, 2] > 150 and centre_row[x1 - 5, 0] > 150
    assert (fitted[:, : x0 - 1] == 255).all() and (fitted[: y0 - 1] == 255).all()


def test_a_large_object_shrinks_to_a_small_drawing():
    photo, mask = _photo_with_object(4, 4, 120, 60)  # 2:1
    sketch = _sketch_box(60, 60, 80, 70)  # drawn 20 x 10
    x0, y0, x1, y1 = _painted_box(align_pairs(sketch[None], photo[None], mask[None])[1][0])
    assert abs((x1 - x0) - 20) <= 1 and abs((y1 - y0) - 10) <= 1


def test_the_part_beyond_the_frame_is_cut_off():
    photo, mask = _photo_with_object(50, 50, 20, 20)
    fitted = fit_object_to_box(photo, mask, (100, 100, 160, 160))  # the box runs off the frame
    assert fitted.shape == photo.shape
    x0, y0, x1, y1 = _painted_box(fitted)
    assert (x0, y0, x1, y1) == (100, 100, SIZE, SIZE)


@pytest.mark.parametrize("case", ["no strokes", "empty mask", "unsegmented"])
def test_pairs_that_cannot_be_fitted_keep_their_photo(case: str):
    photo, mask = _photo_with_object(10, 10, 10, 10)
    sketch = _sketch_box(40, 50, 120, 110)
    unsegmented = np.array([case == "unsegmented"])
    if case == "no strokes":
        sketch[:] = 255
    if case == "empty mask":
        mask[:] = 0
    for mode in ("photo_to_sketch", "sketch_to_photo", "none"):
        aligned_sketch, fitted = align_pairs(
            sketch[None], photo[None], mask[None], unsegmented, mode=mode
        )
        np.testing.assert_array_equal(fitted[0], photo)
        np.testing.assert_array_equal(aligned_sketch[0], sketch)


def test_mismatched_batches_are_refused_with_what_is_wrong():
    photo, mask = _photo_with_object(10, 10, 10, 10)
    sketch = _sketch_box(40, 50, 120, 110)
    with pytest.raises(ValueError, match="1 sketches, 2 photos and 1 masks"):
        align_pairs(sketch[None], np.stack([photo, photo]), mask[None])
    with pytest.raises(ValueError, match="same size"):
        align_pairs(sketch[None], photo[None], mask[None, :64, :64])
    with pytest.raises(ValueError, match="must be one of"):
        align_pairs(sketch[None], photo[None], mask[None], mode="stretch")


def _stroke_width(sketch: np.ndarray) -> float:
    """Mean width of the strokes: ink pixels per pixel of the drawn box's perimeter."""
    x0, y0, x1, y1 = _painted_box(sketch)
    return float((sketch[..., 0] < 128).sum() / (2 * ((x1 - x0) + (y1 - y0))))


@pytest.mark.parametrize(("drawn", "width"), [((8, 8, 120, 120), 2), ((56, 56, 72, 72), 1)])
def test_strokes_move_onto_the_object_at_the_pens_width(drawn, width):
    """A large drawing (a 2 px pen) shrinks onto a small object and a small one (Sketchy's pen
    at 128 px, 1 px) grows onto a large one; the photo is untouched and the strokes stay about
    the pen's width (1 px at 128 px: 256 px's 2, halved), neither hairlines nor a marker."""
    photo, mask = _photo_with_object(20, 30, 40, 40)
    sketch = _sketch_box(*drawn)
    sketch[drawn[1] : drawn[3], drawn[0] : drawn[0] + width] = 0  # a 2 px pen
    sketch[drawn[1] : drawn[1] + width, drawn[0] : drawn[2]] = 0
    sketch[drawn[1] : drawn[3], drawn[2] - width : drawn[2]] = 0
    sketch[drawn[3] - width : drawn[3], drawn[0] : drawn[2]] = 0
    aligned, photos = align_pairs(sketch[None], photo[None], mask[None], mode="sketch_to_photo")
    np.testing.assert_array_equal(photos[0], photo)
    x0, y0, x1, y1 = _painted_box(aligned[0])
    assert abs(x0 - 20) <= 1 and abs(y0 - 30) <= 1 and abs(x1 - 60) <= 1 and abs(y1 - 70) <= 1
    assert set(np.unique(aligned[0])) <= {0, 255}  # black strokes on white, no grey
    assert 0.8 <= _stroke_width(aligned[0]) <= 2.5
