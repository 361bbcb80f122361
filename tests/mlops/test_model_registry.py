"""Registry helpers against a real MLflow SQLite store."""

from __future__ import annotations

import keras
import mlflow
import numpy as np
import pytest

from sketch_to_photo.mlops.model_registry import (
    CHAMPION,
    keras_signature,
    log_and_register,
    promote_if_better,
)
from tests.conftest import mlflow_store


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """One store for the module: creating an MLflow SQLite store takes seconds."""
    with mlflow_store(tmp_path_factory.mktemp("mlflow"), "registry") as client:
        yield client


def _tiny_model() -> keras.Model:
    inputs = keras.Input((16, 16, 3))
    return keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs))


def test_signature_has_a_free_batch_dimension():
    signature = keras_signature(_tiny_model())
    assert signature.inputs.inputs[0].shape == (-1, 16, 16, 3)
    assert signature.outputs.inputs[0].shape == (-1, 16, 16, 3)


def test_champion_moves_only_to_a_better_version(tracking):
    model = _tiny_model()
    decisions = []
    for l1 in (0.30, 0.35, 0.20):
        with mlflow.start_run():
            mlflow.log_metric("test_l1", l1)
            version = log_and_register(model, registered_name="demo", artifact_name="generator")
            decisions.append(
                promote_if_better("demo", version, "test_l1", l1, greater_is_better=False)
            )
    assert [d.promoted for d in decisions] == [True, False, True]
    assert decisions[1].reason.startswith("test_l1 0.3500 not < 0.3000 of v1")
    assert int(tracking.get_model_version_by_alias("demo", CHAMPION).version) == 3
    loaded = mlflow.keras.load_model("models:/demo@champion")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_log_and_register_needs_a_run(tracking):
    with pytest.raises(RuntimeError, match="active MLflow run"):
        log_and_register(_tiny_model(), registered_name="demo", artifact_name="generator")
