"""The Streamlit demo, run with Streamlit's AppTest against real projects and MLflow stores.

Every way in (upload, test split; the canvas through its empty state here and with real mouse
strokes in tests/browser) and every bad input the issue names.
"""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import mlflow
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from sketch_to_photo.models import build_generator
from sketch_to_photo.registry import log_and_register
from tests.conftest import PROJECT_ROOT

TIMEOUT = 120


@pytest.fixture(autouse=True)
def keep_main_module():
    """AppTest leaves ``sys.modules["__main__"]`` set to the app script; multiprocessing's
    forkserver (the segmentation pool) would then run the app in every worker. Put it back."""
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def start(project: Path) -> AppTest:
    shutil.copy(PROJECT_ROOT / "streamlit_app.py", project)
    return AppTest.from_file(str(project / "streamlit_app.py"), default_timeout=TIMEOUT).run()


@pytest.fixture
def app(trained_project: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.chdir(trained_project)  # the app changes directory; this puts it back after
    app = start(trained_project)
    assert not app.exception
    return app


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def drawn_teapot(mode: str = "RGB", size: int = 300) -> Image.Image:
    """A line drawing: black strokes on white (RGB/L) or on transparency (RGBA)."""
    background = {"RGB": (255, 255, 255), "L": 255, "RGBA": (0, 0, 0, 0)}[mode]
    ink = {"RGB": (0, 0, 0), "L": 0, "RGBA": (0, 0, 0, 255)}[mode]
    image = Image.new(mode, (size, size), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((60, 90, 240, 250), outline=ink, width=6)
    draw.arc((200, 120, 290, 200), -90, 90, fill=ink, width=6)
    draw.line((60, 150, 10, 110), fill=ink, width=6)
    return image


def upload(app: AppTest, name: str, data: bytes) -> AppTest:
    app.radio(key="input").set_value("Upload").run()
    app.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
    assert not app.exception, app.exception
    return app


def images(app: AppTest) -> list:
    return list(app.get("image"))


def assert_result_shown(app: AppTest, expected_images: int = 2) -> None:
    assert not app.error, [e.value for e in app.error]
    assert len(images(app)) == expected_images
    (timing,) = [m for m in app.metric if m.label == "Inference time"]
    assert float(timing.value.removesuffix(" ms")) > 0
    guess = [s.value for s in app.subheader if s.value.startswith("Category guess: ")]
    assert len(guess) == 1
    category = guess[0].removeprefix("Category guess: ").split(" (")[0]
    assert category in {"car_(sedan)", "strawberry", "teapot", "teddy_bear"}
    assert len(app.get("vega_lite_chart")) == 1  # the probabilities
    assert app.download_button(key="download").label == "Download the photo (PNG)"


def test_without_a_registered_model_the_page_says_what_to_run(project):
    shutil.copy(PROJECT_ROOT / "streamlit_app.py", project)
    app = AppTest.from_file(str(project / "streamlit_app.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    (warning,) = app.warning
    assert "No registered `sketch_to_photo` model" in warning.value
    assert "`kedro run`" in warning.value
    assert str(project.resolve() / "mlflow.db") in warning.value  # the store it looked in


def test_store_and_models_come_from_the_project_configuration(app, trained_project):
    assert f"sqlite:///{trained_project.resolve() / 'mlflow.db'}" in app.sidebar.caption[0].value
    generator, classifier = app.sidebar.selectbox
    assert generator.label == "Generator (sketch_to_photo)"
    assert classifier.label == "Classifier (sketch_category)"
    assert generator.options == [generator.value] and generator.value.startswith("v1 (champion), ")


def test_blank_canvas_asks_for_a_drawing(app):
    assert app.radio(key="input").value == "Draw"
    assert any("Draw a sketch" in info.value for info in app.info)
    assert not app.error and not images(app)  # nothing generated from an empty canvas


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"], ids=["rgb", "greyscale", "transparent"])
def test_upload_generates_a_photo_with_guess_time_and_download(app, mode):
    upload(app, f"teapot_{mode}.png", png(drawn_teapot(mode)))
    assert_result_shown(app)


def test_upload_of_a_jpeg_with_a_misleading_name_works(app):
    buffer = io.BytesIO()
    drawn_teapot().save(buffer, format="JPEG", quality=90)
    upload(app, "sketch.png", buffer.getvalue())
    assert_result_shown(app)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"this is not a picture", "is not an image file"),
        ("empty.png", b"", "is empty"),
        ("truncated.png", png(drawn_teapot())[:200], "could not be decoded"),
        ("white.png", png(Image.new("RGB", (200, 200), "white")), "has no drawing"),
        ("clear.png", png(Image.new("RGBA", (200, 200), (0, 0, 0, 0))), "has no drawing"),
        ("black.png", png(Image.new("L", (200, 200), 0)), "has no drawing"),
        ("huge.png", png(Image.new("L", (8000, 6000), 255)), "more than the limit"),
    ],
    ids=["not-image", "empty", "truncated", "white", "transparent-empty", "black", "too-large"],
)
def test_bad_uploads_get_a_clear_message(app, name, data, message):
    upload(app, name, data)
    (error,) = app.error
    assert error.value.startswith("Cannot use this file: ")
    assert name in error.value and message in error.value
    assert not images(app)


def test_test_split_sketch_shows_the_real_photo_beside_the_result(app):
    app.radio(key="input").set_value("Test split").run()
    picker = app.selectbox(key="test_pair")
    assert len(picker.options) >= 4  # some per category
    assert_result_shown(app, expected_images=3)
    first_timing = app.metric[0].value
    picker.set_value(picker.options[-1]).run()
    assert_result_shown(app, expected_images=3)
    assert app.selectbox(key="test_pair").value == picker.options[-1]
    assert first_timing  # both runs timed


def test_any_registered_version_can_be_picked(trained_project, tmp_path, monkeypatch):
    project = tmp_path / "project"
    shutil.copytree(trained_project, project)
    monkeypatch.chdir(project)
    uri = f"sqlite:///{project.resolve() / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    with mlflow.start_run(
        experiment_id=mlflow.get_experiment_by_name("sketch_to_photo").experiment_id
    ):
        other = build_generator(32, 4)
        version = log_and_register(
            other, registered_name="sketch_to_photo", artifact_name="generator",
            metadata={"image_size": 32},
        )  # fmt: skip
    assert version == 2

    app = start(project)
    picker = app.sidebar.selectbox(key="generator")
    assert picker.options[0].startswith("v1 (champion)")  # champion first, then newest
    assert picker.options[1].startswith("v2, ")
    upload(app, "teapot.png", png(drawn_teapot()))
    assert_result_shown(app)
    app.sidebar.selectbox(key="generator").set_value(picker.options[1]).run()
    assert not app.exception
    assert app.sidebar.selectbox(key="generator").value.startswith("v2, ")
    assert_result_shown(app)
