"""Batch inference nodes on a folder of made-up and broken files (and again with real
sketches added: marked ``sample``), with the served model's object
built from small ONNX models (no registry; tests/pipelines/inference/test_pipeline.py runs the
pipeline on a registered model)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from sketch_to_photo.pipelines.inference.nodes import (
    OK,
    RESULT_COLUMNS,
    SKIPPED,
    collect_photos,
    draw_contact_sheet,
    generate_photos,
    tabulate_outcomes,
)
from tests.conftest import MADE_AND_REAL, real_sketch_files
from tests.mlops.test_service import P_ANT, local_service, sketch_png

PARAMS = {"category": None, "contact_sheet": {"cell_px": 64, "columns": 3, "max_tiles": 60}}


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def broken_files() -> dict[str, bytes]:
    """Files a user's folder may hold that are not usable sketches, by expected reason."""
    good = sketch_png()
    return {
        "empty.png": b"",
        "notes.txt": b"a shopping list, not a sketch",
        "truncated.png": good[: len(good) // 2],
        "blank.png": _png(Image.new("RGB", (300, 200), "white")),
        # 8000 x 6000 = 48 M pixels: over the 40 M limit, yet a few kB on disk
        "bomb.png": _png(Image.new("1", (8000, 6000), 1)),
    }


REASONS = {
    "empty.png": "the image is empty",
    "notes.txt": "not an image file",
    "truncated.png": "could not be decoded",
    "blank.png": "the sketch is empty",
    "bomb.png": "more than the limit",
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    return local_service(tmp_path_factory.mktemp("service"))


@pytest.fixture(scope="module", params=MADE_AND_REAL)
def folder(request: pytest.FixtureRequest) -> dict[str, bytes]:
    files = {"teapot.png": sketch_png(), "drawings/teapot.jpg": sketch_png(fmt="JPEG")}
    files |= {"teapot.jpg": sketch_png(fmt="JPEG"), ".DS_Store": b"\x00\x01"}
    files |= broken_files()
    if request.param == "real":
        real = real_sketch_files(request, 2)
        files |= {f"real/{path.name}": path.read_bytes() for path in real}
    return files


@pytest.fixture(scope="module")
def outcomes(service, folder):
    partitions = {name: (lambda data=data: data) for name, data in folder.items()}
    return generate_photos(partitions, service, PARAMS)


def test_every_visible_file_gets_an_outcome_and_the_usable_ones_a_photo(outcomes, folder):
    by_input = {o.input: o for o in outcomes}
    assert set(by_input) == set(folder) - {".DS_Store"}  # hidden files are not sketches
    for name, reason in REASONS.items():
        assert by_input[name].status == SKIPPED and reason in by_input[name].reason, name
        assert by_input[name].photo is None and by_input[name].output is None
    usable = [o for o in outcomes if o.status == OK]
    assert len(usable) == len(folder) - 1 - len(REASONS)
    for outcome in usable:
        assert outcome.photo.shape == (32, 32, 3) and outcome.photo.dtype == np.uint8
        assert outcome.category == "ant" and outcome.category_source == "the classifier's guess"
        assert outcome.confidence == pytest.approx(P_ANT, rel=1e-5) and outcome.ms > 0
        assert outcome.model == "sketch_to_photo_service v1 (@champion)"
        assert outcome.generator == "sketch_to_photo v4"
    # same stem: the first in name order keeps it (teapot.jpg -> teapot), the next one gets its
    # suffix (teapot.png -> teapot_png) instead of overwriting; sub-folders are kept
    outputs = {o.input: o.output for o in usable}
    assert outputs["teapot.jpg"] == "teapot" and outputs["teapot.png"] == "teapot_png"
    assert outputs["drawings/teapot.jpg"] == "drawings/teapot"


def test_a_fixed_category_is_used_for_all_and_an_unknown_one_stops_the_run(service):
    partitions = {"a.png": sketch_png}
    (outcome,) = generate_photos(partitions, service, {**PARAMS, "category": "teddy_bear"})
    assert (outcome.category, outcome.category_source) == ("teddy_bear", "picked")
    (spaced,) = generate_photos(partitions, service, {**PARAMS, "category": "teddy bear"})
    assert spaced.category == "teddy_bear" and np.array_equal(spaced.photo, outcome.photo)
    with pytest.raises(ValueError, match="'zebra', not one of the model's categories"):
        generate_photos(partitions, service, {**PARAMS, "category": "zebra"})


def test_photos_table_and_contact_sheet(outcomes):
    photos = collect_photos(outcomes)
    assert set(photos) == {o.output for o in outcomes if o.status == OK}
    assert all(photo.size == (32, 32) for photo in photos.values())

    table = tabulate_outcomes(outcomes)
    assert list(table.columns) == RESULT_COLUMNS and len(table) == len(outcomes)
    assert (table["status"] == SKIPPED).sum() == len(REASONS)
    assert table.loc[table["status"] == OK, "reason"].eq("").all()

    sheet = draw_contact_sheet(outcomes, PARAMS)
    columns, cell = 3, 64
    rows = -(-len(outcomes) // columns)
    assert sheet.width == columns * (2 * cell + 12) + 8 and sheet.height > rows * cell
    pixels = np.asarray(sheet)
    assert pixels.min() < 50 and pixels.max() == 255  # drawn strokes and captions on white

    capped = draw_contact_sheet(
        outcomes, {**PARAMS, "contact_sheet": {**PARAMS["contact_sheet"], "max_tiles": 2}}
    )
    assert capped.height < sheet.height  # the rest is only in the CSV, said in a footer
