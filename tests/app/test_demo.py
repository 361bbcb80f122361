"""The demo's own logic without Streamlit: the canvas path (AppTest cannot draw), uploads, the
test-split picker and the display enlargement."""

from __future__ import annotations

import numpy as np
import pytest

from sketch_to_photo.app.demo import canvas_sketch, enlarge, held_out_pairs, read_upload
from sketch_to_photo.prediction.preprocessing import SketchInputError


def canvas(strokes: bool) -> np.ndarray:
    """What st_canvas returns: RGBA, transparent where nothing is drawn."""
    rgba = np.zeros((320, 320, 4), np.uint8)
    if strokes:
        rgba[100:220, 150:156] = (0, 0, 0, 255)  # a black vertical stroke
        rgba[150:156, 80:240] = (0, 0, 0, 255)
    return rgba


def test_empty_canvas_is_no_sketch():
    assert canvas_sketch(None) is None
    assert canvas_sketch(canvas(strokes=False)) is None
    white = np.full((320, 320, 4), 255, np.uint8)  # opaque white background, nothing drawn
    assert canvas_sketch(white) is None


def test_drawn_canvas_becomes_black_strokes_on_white():
    sketch = canvas_sketch(canvas(strokes=True))
    assert sketch.shape == (320, 320, 3) and sketch.dtype == np.uint8
    assert (sketch[0, 0] == 255).all()  # transparent background -> white paper
    assert (sketch[120, 152] == 0).all()  # the stroke stays black


def test_upload_errors_name_the_file():
    with pytest.raises(SketchInputError, match=r"^notes\.txt is not an image file"):
        read_upload(b"plain text", "notes.txt")
    with pytest.raises(SketchInputError, match=r"^empty\.png is empty"):
        read_upload(b"", "empty.png")


def test_held_out_pairs_come_from_the_test_split_only(trained_project):
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    with KedroSession.create(project_path=trained_project) as session:
        shards = session.load_context().catalog.load("pair_shards")
    pairs = held_out_pairs(shards, per_category=2)
    test_ids = {
        str(i)
        for name, load in shards.items()
        if name.startswith("test/")
        for i in load()["sketch_ids"]
    }
    assert pairs and {p.sketch_id for p in pairs} <= test_ids
    counts = {c: sum(p.category == c for p in pairs) for c in {p.category for p in pairs}}
    assert max(counts.values()) <= 2
    assert all(p.sketch.shape == p.photo.shape and p.sketch.dtype == np.uint8 for p in pairs)


def test_enlarge_keeps_pixels_sharp():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = enlarge(image, 8)
    assert big.shape == (8, 8, 3)
    assert (big[:4, :4] == image[0, 0]).all() and (big[4:, 4:] == image[1, 1]).all()
