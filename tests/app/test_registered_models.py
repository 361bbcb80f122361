"""The project's registered models: none without a store, why a version was ruled out of
champion, and a registered class-aware generator read back, loaded and run (Keras and ONNX
Runtime)."""

from __future__ import annotations

import mlflow
import numpy as np

from sketch_to_photo.app.demo import onnx_runtime_twin
from sketch_to_photo.app.model_card import model_card
from sketch_to_photo.app.registered_models import (
    MlflowStore,
    load_registered_model,
    registered_versions,
)
from sketch_to_photo.mlops.model_registry import log_and_register, promote_if_better
from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.photograph import sketch_to_photo
from tests.app.test_model_card import CATEGORIES, FULL_METADATA, version
from tests.prediction.test_photograph import class_aware_generator, teapot


def test_no_store_or_no_model_means_no_versions(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert registered_versions(MlflowStore(uri, uri), "sketch_to_photo") == []


def test_ineligible_versions_say_why():
    assert version().ineligible_reason is None
    assert version({"champion_eligible": "True"}).ineligible_reason is None
    reason = "test_l1 0.27 does not beat the mean training photo's 0.18"
    tagged = version({"champion_eligible": "False", "champion_ineligible_reason": reason})
    assert tagged.ineligible_reason == reason
    assert version({"champion_eligible": "False"}).ineligible_reason == "no reason recorded"


def test_registered_class_aware_generator_round_trip(tmp_path):
    """Registered with the project's log_and_register and tagged by promote_if_better: the
    demo reads back the metadata, the tags and the two-input model."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store = MlflowStore(uri, uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_name="demo_test")
    with mlflow.start_run():
        number = log_and_register(
            class_aware_generator(), registered_name="sketch_to_photo",
            artifact_name="generator", metadata=FULL_METADATA,
        )  # fmt: skip
    promote_if_better(
        "sketch_to_photo", number, "test_l1", 0.15, greater_is_better=False,
        client=store.client(), disqualified="it does not beat the mean training photo",
    )  # fmt: skip
    (found,) = registered_versions(store, "sketch_to_photo")
    assert found.ineligible_reason == "it does not beat the mean training photo"
    loaded = load_registered_model(store, found)
    assert loaded.class_aware and loaded.image_size == 32 and loaded.categories == CATEGORIES
    rows = dict(model_card(loaded).rows())
    assert rows["Epochs"] == "40" and rows["Pairs"] == "training 1,234, validation 150, test 163"
    loaded.warm_up()  # two inputs: would fail with a sketch alone
    result = sketch_to_photo(teapot(), loaded, category="ant")
    assert result.photo.shape == (32, 32, 3) and result.category == "ant"

    # What the demo server runs: the same model under ONNX Runtime, same photo, same card.
    twin = onnx_runtime_twin(loaded)
    assert isinstance(twin.model, OnnxModel) and twin.class_aware
    assert twin.metadata["runtime"] == "ONNX Runtime"
    assert dict(model_card(twin).rows()) == rows
    twin.warm_up()
    for category in CATEGORIES:
        keras_photo = sketch_to_photo(teapot(), loaded, category=category).photo
        onnx_photo = sketch_to_photo(teapot(), twin, category=category).photo
        assert np.abs(keras_photo.astype(int) - onnx_photo).max() <= 2  # uint8 rounding
    assert not (sketch_to_photo(teapot(), twin, category=CATEGORIES[0]).photo == onnx_photo).all()
