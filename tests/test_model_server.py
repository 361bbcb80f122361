"""The served model through MLflow's real scoring server: ``mlflow models serve`` on
``models:/sketch_to_photo_service@champion`` from the store a tiny ``kedro run`` wrote, as the
README serves it. Sketch bytes in (base64 in JSON), a photo PNG out; bad input gets a 4xx with
a readable message and leaves the server serving.

The default run trains a plain generator (``training.class_aware: false``), which takes no
category; a picked category is tested on a second server with a small class-aware service
model registered here (its logic without HTTP: tests/mlops/test_service.py)."""

from __future__ import annotations

import base64
import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import mlflow
import numpy as np
import pytest
import requests
from PIL import Image

from sketch_to_photo.mlops.model_registry import follow_champion, log_and_register_service
from sketch_to_photo.mlops.service import SERVICE_NAME
from sketch_to_photo.prediction.photograph import LoadedModel, classify
from tests.conftest import MADE_AND_REAL, TINY_RUN, mlflow_store
from tests.prediction.test_photograph import CATEGORIES, class_aware_generator, fixed_classifier

MODEL_URI = f"models:/{SERVICE_NAME}@champion"
STARTUP_SECONDS = 120
REQUEST_SECONDS = 60
GUESSED, PICKED = "the classifier's guess", "picked"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen) -> None:
    """Terminate the server's process group (uvicorn runs under a shell); kill it if stuck."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


@contextlib.contextmanager
def model_server(store: str, cwd: Path, log: Path) -> Iterator[str]:
    """``mlflow models serve`` on the champion service model of ``store``; its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # serve starts uvicorn through the shell: it must find the venv's uvicorn.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_TRACKING_URI": store,
        "MLFLOW_REGISTRY_URI": store,
        "DO_NOT_TRACK": "1",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "mlflow", "models", "serve", "-m", MODEL_URI,
        "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port), "-w", "1",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the shell and uvicorn stop with it
        )  # fmt: skip
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    pytest.fail(
                        f"mlflow models serve exited with {process.returncode}:\n"
                        f"{log.read_text()[-5000:]}"
                    )
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{url}/ping", timeout=5).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"mlflow models serve did not answer /ping within {STARTUP_SECONDS} s:\n"
                        f"{log.read_text()[-5000:]}"
                    )
                time.sleep(0.5)
            yield url
        finally:
            stop(process)


@pytest.fixture(scope="module")
def store(trained_project: Path) -> str:
    return f"sqlite:///{trained_project.resolve() / 'mlflow.db'}"


@pytest.fixture(scope="module")
def model_metadata(store: str) -> dict[str, Any]:
    """The registered champion's metadata (its model card): image size, categories."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    try:
        metadata = mlflow.models.get_model_info(MODEL_URI).metadata
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    # the tiny run's generator: 32 px, the four categories of conf/base/globals.yml
    assert int(metadata["image_size"]) == TINY_RUN["training"]["image_size"] == 32, metadata
    assert metadata["categories"] == ["car_(sedan)", "strawberry", "teapot", "teddy_bear"]
    return metadata


@pytest.fixture(scope="module")
def champion_classifier(store: str, model_metadata: dict[str, Any]) -> LoadedModel:
    """The run's champion sketch classifier in Keras: what the service's ONNX copy must say."""
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(store)
    mlflow.set_registry_uri(store)
    try:
        model = mlflow.keras.load_model("models:/sketch_category@champion")
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    card = model_metadata["classifier"]
    return LoadedModel("sketch_category@champion", model, card["image_size"], card["categories"])


@pytest.fixture(scope="module")
def service_url(
    trained_project: Path, store: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The trained project's champion service model behind the real scoring server."""
    log = tmp_path_factory.mktemp("model_server") / "server.log"
    with model_server(store, trained_project, log) as url:
        yield url


# The fixed classifier always guesses index 2 of its categories: "ant".
CLASS_AWARE_CARD = {
    "generator_name": "sketch_to_photo",
    "generator_version": 1,
    "image_size": 32,
    "categories": CATEGORIES,
    "class_aware": True,
    "classifier": {"image_size": 32, "categories": ["zebra", "teddy_bear", "ant", "alarm_clock"]},
}


@pytest.fixture(scope="module")
def class_aware_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A class-aware service model (tiny generator over CATEGORIES, a classifier that always
    guesses "ant") registered as champion in its own store, behind the real scoring server."""
    folder = tmp_path_factory.mktemp("class_aware_service")
    with mlflow_store(folder, "class_aware_service") as client:
        with mlflow.start_run():
            version = log_and_register_service(
                class_aware_generator(), fixed_classifier(answer=2), CLASS_AWARE_CARD
            )
        follow_champion(SERVICE_NAME, version, promoted=True, client=client)
    with model_server(f"sqlite:///{folder / 'mlflow.db'}", folder, folder / "server.log") as url:
        yield url


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def drawn_sketch() -> Image.Image:
    """Black strokes on white, 200x150 RGB: a house with a door, and the sun."""
    canvas = np.full((150, 200, 3), 255, np.uint8)
    cv2.rectangle(canvas, (50, 60), (150, 135), (0, 0, 0), 3)
    cv2.line(canvas, (45, 62), (100, 20), (0, 0, 0), 3)
    cv2.line(canvas, (100, 20), (155, 62), (0, 0, 0), 3)
    cv2.rectangle(canvas, (88, 95), (112, 135), (0, 0, 0), 2)
    cv2.circle(canvas, (170, 25), 12, (0, 0, 0), 2)
    return Image.fromarray(canvas)


@pytest.fixture(scope="module", params=MADE_AND_REAL)
def sketch(request: pytest.FixtureRequest, model_metadata: dict[str, Any]) -> Image.Image:
    """A sketch drawn with OpenCV, then (marked ``sample``) a real Sketchy sketch (256x256) of
    one of the model's categories; RGB."""
    if request.param == "made":
        return drawn_sketch()
    sketches = request.getfixturevalue("sketchy_sample") / "256x256" / "sketch" / "tx_000000000000"
    for category in model_metadata["categories"]:
        files = sorted((sketches / category).glob("*.png"))
        if files:
            return Image.open(files[0]).convert("RGB")
    pytest.skip(f"no sketch of the model's categories {model_metadata['categories']} in {sketches}")


def invoke(url: str, records: list[dict[str, Any]]) -> requests.Response:
    return requests.post(
        f"{url}/invocations", json={"dataframe_records": records}, timeout=REQUEST_SECONDS
    )


def decode_photo(prediction: dict[str, Any]) -> Image.Image:
    photo = Image.open(io.BytesIO(base64.b64decode(prediction["photo"])))
    assert photo.format == "PNG"
    photo.load()
    return photo


def predict_one(url: str, record: dict[str, Any]) -> tuple[Image.Image, dict[str, Any]]:
    response = invoke(url, [record])
    assert response.status_code == 200, response.text
    (prediction,) = response.json()["predictions"]
    return decode_photo(prediction), prediction


def client_error_message(response: requests.Response) -> str:
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    return response.json()["message"]


# ---- the trained project's champion -----------------------------------------------------


def test_a_sketch_gets_a_photo_at_model_size_and_a_category(
    service_url, sketch, model_metadata, champion_classifier
):
    size = int(model_metadata["image_size"])
    photo, prediction = predict_one(service_url, {"image": b64(encode(sketch))})
    assert photo.size == (size, size) and photo.mode == "RGB"
    assert np.asarray(photo).std() > 1  # a picture, not a constant fill
    # the category and confidence are the champion classifier's top answer for this sketch
    expected = classify(encode(sketch), champion_classifier)
    best = next(iter(expected))
    assert prediction["category"] == best
    assert prediction["category_source"] == GUESSED
    assert prediction["confidence"] == pytest.approx(expected[best], abs=1e-4)  # ONNX vs Keras


def test_greyscale_rgba_and_jpeg_sketches_are_served_too(service_url, sketch, model_metadata):
    size = int(model_metadata["image_size"])
    rgb_photo, _ = predict_one(service_url, {"image": b64(encode(sketch))})
    grey = sketch.convert("L")
    # Strokes opaque, paper transparent: composited onto white it is the RGB sketch again.
    rgba = sketch.convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(np.asarray(grey) == 255, 0, 255).astype(np.uint8)))
    variants = {
        "greyscale PNG": encode(grey),
        "RGBA PNG": encode(rgba),
        "JPEG": encode(sketch, "JPEG"),
        "greyscale JPEG": encode(grey, "JPEG"),
    }
    for name, data in variants.items():
        photo, prediction = predict_one(service_url, {"image": b64(data)})
        assert photo.size == (size, size), name
        assert prediction["category"] in model_metadata["categories"], name
    rgba_photo, _ = predict_one(service_url, {"image": b64(variants["RGBA PNG"])})
    assert np.array_equal(np.asarray(rgba_photo), np.asarray(rgb_photo))


def test_several_sketches_in_one_request(service_url, sketch, model_metadata):
    response = invoke(
        service_url, [{"image": b64(encode(sketch))}, {"image": b64(encode(drawn_sketch()))}]
    )
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 2
    for prediction in predictions:
        assert decode_photo(prediction).size == (int(model_metadata["image_size"]),) * 2


def test_the_plain_champion_rejects_an_unknown_category_and_says_a_known_one_is_unused(
    service_url, sketch, model_metadata
):
    assert not model_metadata["class_aware"]
    response = invoke(service_url, [{"image": b64(encode(sketch)), "category": "giraffe"}])
    assert "giraffe" in client_error_message(response)
    known = model_metadata["categories"][0]
    response = invoke(service_url, [{"image": b64(encode(sketch)), "category": known}])
    assert response.status_code == 200
    source = response.json()["predictions"][0]["category_source"]
    assert "draws without a category" in source and known in source


GARBAGE = {
    "not an image": ([{"image": b64(b"not an image")}], "not an image"),
    "empty image": ([{"image": ""}], "the image is empty"),
    "wrong field": ([{"picture": b64(b"not an image")}], "missing inputs ['image']"),
    "invalid base64": ([{"image": "%%% not base64 %%%"}], "base64"),
}


@pytest.mark.parametrize("case", list(GARBAGE))
def test_garbage_gets_a_readable_client_error(service_url, case):
    records, words = GARBAGE[case]
    assert words in client_error_message(invoke(service_url, records))


def test_a_body_that_is_not_json_gets_a_readable_client_error(service_url):
    response = requests.post(
        f"{service_url}/invocations",
        data=b"image=this is not JSON",
        headers={"Content-Type": "application/json"},
        timeout=REQUEST_SECONDS,
    )
    assert "valid JSON" in client_error_message(response)


def test_the_server_still_serves_after_garbage(service_url, sketch):
    for records, _ in GARBAGE.values():
        invoke(service_url, records)
    # No Content-Type at all: MLflow's scoring server answers 500 (it splits None); it must
    # survive that too.
    requests.post(f"{service_url}/invocations", data=b"{", timeout=REQUEST_SECONDS)
    assert requests.get(f"{service_url}/ping", timeout=10).status_code == 200
    predict_one(service_url, {"image": b64(encode(sketch))})


# ---- a class-aware service: the category a client picks -----------------------------------


def test_a_picked_category_is_drawn_and_echoed(class_aware_url):
    sketch = b64(encode(drawn_sketch()))
    photos = {}
    for category in ("alarm_clock", "teddy_bear"):
        photo, prediction = predict_one(class_aware_url, {"image": sketch, "category": category})
        assert photo.size == (32, 32)
        assert (prediction["category"], prediction["category_source"]) == (category, PICKED)
        photos[category] = np.asarray(photo)
    assert not np.array_equal(photos["alarm_clock"], photos["teddy_bear"])
    _, guessed = predict_one(class_aware_url, {"image": sketch})
    assert (guessed["category"], guessed["category_source"]) == ("ant", GUESSED)


def test_rows_with_and_without_a_category_in_one_request(class_aware_url):
    sketch = b64(encode(drawn_sketch()))
    response = invoke(
        class_aware_url, [{"image": sketch, "category": "teddy_bear"}, {"image": sketch}]
    )
    assert response.status_code == 200, response.text
    assert [(p["category"], p["category_source"]) for p in response.json()["predictions"]] == [
        ("teddy_bear", PICKED),
        ("ant", GUESSED),
    ]


def test_an_unknown_category_is_a_bad_request_naming_it(class_aware_url):
    response = invoke(
        class_aware_url, [{"image": b64(encode(drawn_sketch())), "category": "giraffe"}]
    )
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert "'giraffe' is not one of this model's categories" in message
    assert all(name in message for name in CATEGORIES)  # says what it does know
