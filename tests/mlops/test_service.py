"""The served model's logic (no HTTP here; tests/test_model_server.py serves it for real):
registered as a pyfunc in a real SQLite store, loaded back, images of every kind in, PNG
bytes out, and clear errors for input that is not a usable sketch."""

from __future__ import annotations

import base64
import io
import json
import math
import pickle
from pathlib import Path

import cv2
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from PIL import Image

from sketch_to_photo.mlops.model_registry import CHAMPION, follow_champion, log_and_register_service
from sketch_to_photo.mlops.service import (
    CARD,
    CLASSIFIER,
    GENERATOR,
    SERVICE_NAME,
    SketchToPhotoService,
)
from sketch_to_photo.models.export import export_onnx
from tests.conftest import mlflow_store
from tests.prediction.test_photograph import CATEGORIES, class_aware_generator, fixed_classifier

CLASSIFIER_NAMES = ["zebra", "teddy_bear", "ant", "alarm_clock"]  # guesses "ant" (index 2)
# fixed_classifier(answer=2)'s probabilities: softmax of logits 5 for "ant", 0 for the others
P_ANT = math.exp(5) / (math.exp(5) + 3)
P_OTHER = 1 / (math.exp(5) + 3)
CARD_CONTENT = {
    "generator_name": "sketch_to_photo", "generator_version": 4, "image_size": 32,
    "categories": CATEGORIES, "class_aware": True,
    "classifier": {"image_size": 32, "categories": CLASSIFIER_NAMES},
}  # fmt: skip


def local_service(folder) -> SketchToPhotoService:
    """The served model's object built from ONNX files in ``folder``, without a registry: a
    class-aware generator over CATEGORIES and a classifier that always guesses "ant"."""
    card = folder / "card.json"
    card.write_text(json.dumps(CARD_CONTENT), encoding="utf-8")
    artifacts = {
        GENERATOR: str(export_onnx(class_aware_generator(), folder / "generator.onnx")),
        CLASSIFIER: str(export_onnx(fixed_classifier(answer=2), folder / "classifier.onnx")),
        CARD: str(card),
    }
    service = SketchToPhotoService()
    service.load_artifacts(artifacts)
    service.registered_as = f"{SERVICE_NAME} v1 (@champion)"
    return service


def sketch_png(mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A drawn teapot-ish sketch (200x150), encoded like a user's file."""
    canvas = np.full((150, 200, 3), 255, np.uint8)
    cv2.ellipse(canvas, (100, 80), (60, 40), 0, 0, 360, (0, 0, 0), 3)
    cv2.line(canvas, (160, 70), (190, 50), (0, 0, 0), 3)
    image = Image.fromarray(canvas)
    if mode == "RGBA":  # strokes opaque, paper transparent
        alpha = Image.fromarray(np.where(canvas[:, :, 0] < 128, 255, 0).astype(np.uint8))
        image = Image.merge("RGBA", (*image.split(), alpha))
    elif mode == "L":
        image = image.convert("L")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """A class-aware generator and a classifier registered as the served model (v1)."""
    with mlflow_store(tmp_path_factory.mktemp("serving"), "serving") as client:
        with mlflow.start_run():
            version = log_and_register_service(
                class_aware_generator(), fixed_classifier(answer=2), CARD_CONTENT
            )
        yield client, version


@pytest.fixture(scope="module")
def service(registered) -> mlflow.pyfunc.PyFuncModel:
    _, version = registered
    return mlflow.pyfunc.load_model(f"models:/{SERVICE_NAME}/{version}")


def _photo(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_registered_with_onnx_models_and_the_card(registered, service):
    client, version = registered
    assert version == 1
    info = mlflow.models.get_model_info(f"models:/{SERVICE_NAME}/{version}")
    assert info.metadata["generator_version"] == 4 and info.metadata["categories"] == CATEGORIES
    unwrapped = service.unwrap_python_model()
    assert isinstance(unwrapped, SketchToPhotoService)
    assert unwrapped.generator.model.path.suffix == ".onnx"  # ONNX Runtime, not Keras
    assert unwrapped.classifier is not None and unwrapped.classifier.categories == CLASSIFIER_NAMES
    assert info.saved_input_example_info is not None  # a request example for serve's users
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(SERVICE_NAME, CHAMPION)
    follow_champion(SERVICE_NAME, version, promoted=False, client=client)
    with pytest.raises(MlflowException):
        client.get_model_version_by_alias(SERVICE_NAME, CHAMPION)
    follow_champion(SERVICE_NAME, version, promoted=True, client=client)
    assert int(client.get_model_version_by_alias(SERVICE_NAME, CHAMPION).version) == version


def test_the_whole_package_travels_with_the_model(registered):
    """code_paths is the sketch_to_photo package (not the mlops/ folder the registry lives in),
    so the pickled service and its preprocessing import on a host without the project."""
    _, version = registered
    local = Path(mlflow.artifacts.download_artifacts(f"models:/{SERVICE_NAME}/{version}"))
    package = local / "code" / "sketch_to_photo"
    assert (package / "__init__.py").is_file()
    assert (package / "mlops" / "service.py").is_file()
    assert (package / "prediction" / "preprocessing.py").is_file()
    assert sorted(p.name for p in (local / "code").iterdir()) == ["sketch_to_photo"]


def test_a_service_pickled_under_its_old_module_path_still_loads():
    """Served models registered before the layout move pickled the class as
    ``sketch_to_photo.serving.SketchToPhotoService``; in a process that has already imported
    the project (the inference pipeline), unpickling must find it there."""
    new_path = pickle.dumps(SketchToPhotoService(), protocol=0)
    assert b"sketch_to_photo.mlops.service\nSketchToPhotoService" in new_path
    old_path = new_path.replace(b"sketch_to_photo.mlops.service\n", b"sketch_to_photo.serving\n")
    assert type(pickle.loads(old_path)) is SketchToPhotoService


@pytest.mark.parametrize(
    ("mode", "fmt"), [("RGB", "PNG"), ("L", "PNG"), ("RGBA", "PNG"), ("RGB", "JPEG")]
)
def test_any_image_kind_gives_a_png_photo_at_model_size(service, mode, fmt):
    out = service.predict(pd.DataFrame({"image": [sketch_png(mode, fmt)]}))
    assert list(out.columns) == ["photo", "category", "category_source", "confidence"]
    photo = _photo(out["photo"][0])
    assert photo.format == "PNG" and photo.size == (32, 32) and photo.mode == "RGB"
    assert out["category"][0] == "ant" and out["category_source"][0] == "the classifier's guess"
    assert out["confidence"][0] == pytest.approx(P_ANT, rel=1e-5)


def test_a_given_category_is_drawn(service):
    request = pd.DataFrame(
        {"image": [sketch_png(), sketch_png()], "category": ["teddy_bear", None]}
    )
    out = service.predict(request)
    assert list(out["category"]) == ["teddy_bear", "ant"]
    assert list(out["category_source"]) == ["picked", "the classifier's guess"]
    # the classifier's confidence in the category drawn, whoever chose it
    assert list(out["confidence"]) == pytest.approx([P_OTHER, P_ANT], rel=1e-5)
    assert not np.array_equal(
        np.asarray(_photo(out["photo"][0])), np.asarray(_photo(out["photo"][1]))
    )


@pytest.mark.parametrize(
    ("image", "category", "message"),
    [
        (b"not an image", None, "not an image file"),
        (b"", None, "the image is empty"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, None, "could not be decoded|not an image file"),
        (None, None, "'image' must be the image file's bytes"),
        ("blank", None, "the sketch is empty"),
        ("good", "zebra", "'zebra' is not one of this model's categories"),
    ],
)
def test_unusable_input_is_a_bad_request_that_says_why(service, image, category, message):
    if image == "blank":
        buffer = io.BytesIO()
        Image.new("RGB", (64, 64), "white").save(buffer, format="PNG")
        image = buffer.getvalue()
    elif image == "good":
        image = sketch_png()
    with pytest.raises(MlflowException, match=message) as caught:
        service.predict(pd.DataFrame({"image": [image], "category": [category]}))
    assert caught.value.get_http_status_code() == 400


def test_a_bad_row_among_several_is_named(service):
    with pytest.raises(MlflowException, match="row 1: "):
        service.predict(pd.DataFrame({"image": [sketch_png(), b"junk"]}))


def test_base64_json_round_trip_as_the_server_does(service):
    """What a client sends (base64 in JSON) decodes to the bytes the model reads."""
    from mlflow.pyfunc.scoring_server import infer_and_parse_data  # noqa: PLC0415

    body = {"dataframe_records": [{"image": base64.b64encode(sketch_png()).decode()}]}
    data = infer_and_parse_data(body, service.metadata.get_input_schema())
    out = service.predict(data)
    assert _photo(out["photo"][0]).size == (32, 32)
