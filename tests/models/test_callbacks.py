"""The MLflow callbacks against a real (SQLite) MLflow store and real Keras training."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import keras
import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient
from PIL import Image

from sketch_to_photo.models.callbacks import (
    GUTTER,
    TITLE_HEIGHT,
    GeneratorAverage,
    GeneratorCheckpoint,
    MlflowMetricsLogger,
    ProgressLogger,
    SampleGridLogger,
    render_grid,
)
from sketch_to_photo.models.pix2pix import Pix2Pix, build_discriminator, build_generator
from sketch_to_photo.prediction.preprocessing import to_uint8

SIZE = 16
N_SAMPLES = 3


@pytest.fixture(scope="module")
def experiment_id(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway SQLite tracking store (one per module: its migrations take seconds)."""
    root = tmp_path_factory.mktemp("mlflow")
    previous_env = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    try:
        # An explicit artifact location: the default would be relative to the working directory.
        yield mlflow.create_experiment("callbacks", artifact_location=(root / "artifacts").as_uri())
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)  # also unsets MLFLOW_TRACKING_URI
        if previous_env is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous_env


def _data(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    sketches = rng.uniform(-1, 1, (n, SIZE, SIZE, 3)).astype(np.float32)
    return sketches, np.tanh(sketches[..., ::-1] * 2).astype(np.float32)


def _generator() -> keras.Model:
    inputs = keras.Input((SIZE, SIZE, 3))
    outputs = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)
    return keras.Model(inputs, outputs, name="generator")


def _gan_like() -> keras.Model:
    """A model whose own output is not the generator's: the grid must use ``.generator``."""
    generator = _generator()
    inputs = keras.Input((SIZE, SIZE, 3))
    outer = keras.Model(inputs, keras.layers.Conv2D(3, 1)(generator(inputs)))
    outer.generator = generator
    return outer


def _fit(model: keras.Model, epochs: int, callbacks: list[keras.callbacks.Callback]) -> None:
    sketches, photos = _data()
    model.compile(optimizer="adam", loss="mae", metrics=["mse"])
    model.fit(
        sketches,
        photos,
        validation_data=(sketches[:4], photos[:4]),
        batch_size=4,
        epochs=epochs,
        callbacks=callbacks,
        verbose=0,
    )


def test_metrics_are_logged_once_per_epoch(experiment_id):
    with mlflow.start_run(experiment_id=experiment_id) as run:
        _fit(_generator(), 3, [MlflowMetricsLogger(), MlflowMetricsLogger(prefix="g/")])
    client = MlflowClient()
    keys = set(client.get_run(run.info.run_id).data.metrics)
    expected = {"loss", "mse", "val_loss", "val_mse", "epoch_seconds"}
    assert expected <= keys and {f"g/{k}" for k in expected} <= keys
    for key in ("loss", "val_mse", "epoch_seconds", "g/loss"):
        history = client.get_metric_history(run.info.run_id, key)
        assert sorted(m.step for m in history) == [0, 1, 2]
        assert all(np.isfinite(m.value) for m in history)
    assert all(m.value > 0 for m in client.get_metric_history(run.info.run_id, "epoch_seconds"))


def test_sample_grids_use_the_generator_and_are_logged(experiment_id, tmp_path: Path):
    sketches, photos = _data(N_SAMPLES)
    model = _gan_like()
    grids = SampleGridLogger(sketches, photos, every_n_epochs=2, output_dir=tmp_path / "grids")
    with mlflow.start_run(experiment_id=experiment_id) as run:
        _fit(model, 3, [grids])  # epoch 2 by the schedule, epoch 3 as the last one
    names = ["grid_epoch_0002.png", "grid_epoch_0003.png"]
    assert sorted(p.name for p in (tmp_path / "grids").iterdir()) == names
    artifacts = MlflowClient().list_artifacts(run.info.run_id, "samples")
    assert sorted(Path(a.path).name for a in artifacts) == names

    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path=f"samples/{names[-1]}", dst_path=str(tmp_path / "dl")
    )
    grid = np.asarray(Image.open(local))
    step = SIZE + GUTTER
    assert grid.shape == (TITLE_HEIGHT + N_SAMPLES * step + GUTTER, 3 * step + GUTTER, 3)
    generated = to_uint8(model.generator(sketches, training=False))
    for row in range(N_SAMPLES):
        y = TITLE_HEIGHT + GUTTER + row * step
        cells = [grid[y : y + SIZE, GUTTER + c * step : GUTTER + c * step + SIZE] for c in range(3)]
        assert np.array_equal(cells[0], to_uint8(sketches[row]))
        assert np.array_equal(cells[1], generated[row])
        assert np.array_equal(cells[2], to_uint8(photos[row]))


def test_grid_every_epoch_is_not_repeated_at_the_end(experiment_id, tmp_path: Path):
    sketches, photos = _data(1)
    grids = SampleGridLogger(sketches, photos, every_n_epochs=1, output_dir=tmp_path)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        _fit(_generator(), 2, [grids])  # a plain generator: no .generator attribute
    assert [p.name for p in grids.saved] == ["grid_epoch_0001.png", "grid_epoch_0002.png"]
    assert len(MlflowClient().list_artifacts(run.info.run_id, "samples")) == 2


def test_callbacks_do_nothing_in_mlflow_without_an_active_run(experiment_id, tmp_path: Path):
    assert mlflow.active_run() is None
    runs_before = len(MlflowClient().search_runs([experiment_id, "0"]))
    sketches, photos = _data(2)
    grids = SampleGridLogger(sketches, photos, every_n_epochs=5, output_dir=tmp_path)
    _fit(_generator(), 2, [MlflowMetricsLogger(), grids])
    assert mlflow.active_run() is None
    assert len(MlflowClient().search_runs([experiment_id, "0"])) == runs_before
    assert [p.name for p in tmp_path.iterdir()] == ["grid_epoch_0002.png"]  # local file only


class _WeightsAfterEachStep(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.steps: list[list[np.ndarray]] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps.append([v.numpy().copy() for v in self.model.generator.trainable_variables])


def test_generator_average_leaves_the_moving_average_of_the_steps_weights() -> None:
    keras.utils.set_random_seed(0)
    model = Pix2Pix(
        build_generator(32, 4, dropout=0.0, normalization="instance"),
        build_discriminator(32, 4, normalization="instance"),
    )
    momentum = 0.9
    model.compile(
        g_optimizer=keras.optimizers.Adam(1e-2, use_ema=True, ema_momentum=momentum),
        d_optimizer=keras.optimizers.Adam(1e-2),
    )
    rng = np.random.default_rng(0)
    sketches = rng.uniform(-1, 1, (8, 32, 32, 3)).astype(np.float32)
    recorder = _WeightsAfterEachStep()
    model.fit(sketches, sketches[..., ::-1], batch_size=4, epochs=2, verbose=0,
              callbacks=[GeneratorAverage(), recorder])  # fmt: skip
    # computed independently: the first step's weights, then the momentum's running average
    average = recorder.steps[0]
    for weights in recorder.steps[1:]:
        average = [momentum * a + (1 - momentum) * w for a, w in zip(average, weights, strict=True)]
    final = [v.numpy() for v in model.generator.trainable_variables]
    assert len(recorder.steps) == 4
    assert max(np.abs(a - f).max() for a, f in zip(average, final, strict=True)) < 1e-5
    # and it is not simply the last step's weights
    assert max(np.abs(w - f).max() for w, f in zip(recorder.steps[-1], final, strict=True)) > 1e-3


def test_generator_average_refuses_an_optimizer_without_an_average() -> None:
    model = keras.Model()
    model.g_optimizer = keras.optimizers.Adam()
    model.generator = _generator()
    callback = GeneratorAverage()
    callback.set_model(model)
    with pytest.raises(ValueError, match="use_ema=True"):
        callback.on_train_end()


def test_render_grid_layout_and_titles():
    rng = np.random.default_rng(2)
    columns = [rng.integers(0, 256, (2, 40, 40, 3), dtype=np.uint8) for _ in range(3)]
    grid = render_grid(*columns)
    assert grid.dtype == np.uint8 and grid.shape == (TITLE_HEIGHT + 2 * 44 + 4, 3 * 44 + 4, 3)
    assert (grid[TITLE_HEIGHT : TITLE_HEIGHT + GUTTER] == 255).all()  # white gutter
    assert (grid[:, :GUTTER] == 255).all()
    assert (grid[:TITLE_HEIGHT] < 128).any()  # the titles were drawn
    assert np.array_equal(
        grid[TITLE_HEIGHT + 4 + 44 : TITLE_HEIGHT + 4 + 84, 4 + 88 : 132], columns[2][1]
    )
    with pytest.raises(ValueError, match="one shape"):
        render_grid(columns[0], columns[1][:1], columns[2])


def test_sample_grid_logger_checks_its_inputs(tmp_path: Path):
    sketches, photos = _data(9)
    with pytest.raises(ValueError, match="1 to 8 samples"):
        SampleGridLogger(sketches, photos, every_n_epochs=1, output_dir=tmp_path)
    with pytest.raises(ValueError, match="every_n_epochs"):
        SampleGridLogger(sketches[:2], photos[:2], every_n_epochs=0, output_dir=tmp_path)


def test_progress_logger_logs_the_first_and_last_epoch_and_about_ten_between(caplog):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    with caplog.at_level(logging.INFO, logger="sketch_to_photo.models.callbacks"):
        model.fit(x, y, epochs=25, verbose=0, callbacks=[ProgressLogger("toy", 25)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("toy: ")]
    assert [line.split(":")[1].strip() for line in lines] == [
        "epoch 1/25", "epoch 2/25", "epoch 4/25", "epoch 6/25", "epoch 8/25", "epoch 10/25",
        "epoch 12/25", "epoch 14/25", "epoch 16/25", "epoch 18/25", "epoch 20/25",
        "epoch 22/25", "epoch 24/25", "epoch 25/25",
    ]  # fmt: skip
    assert "loss 0" in lines[-1] and lines[-1].endswith(" s)")


def test_generator_checkpoint_saves_every_n_epochs(tmp_path):
    class Wrapper(keras.Model):
        def __init__(self):
            super().__init__()
            self.generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

        def call(self, inputs):
            return self.generator(inputs)

    model = Wrapper()
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[GeneratorCheckpoint(tmp_path, 2)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "generator_epoch_0002.keras", "generator_epoch_0004.keras",
    ]  # fmt: skip
