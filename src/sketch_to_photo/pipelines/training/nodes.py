"""Nodes of the training pipeline.

The model code is plain Keras (:mod:`sketch_to_photo.models`); this node wires it to the
shards, the configuration and MLflow (kedro-mlflow's run is active inside the node).
A run killed during training resumes from its last completed epoch: Keras'
``BackupAndRestore`` keeps a backup in ``training.backup_dir``, tied to the settings that
made it, and deletes it when training completes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np

from sketch_to_photo.models import (
    PerceptualLoss,
    Pix2Pix,
    build_discriminator,
    build_generator,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models.callbacks import MlflowMetricsLogger, SampleGridLogger
from sketch_to_photo.models.data import count_pairs, pair_dataset
from sketch_to_photo.pairs import shard_paths

logger = logging.getLogger(__name__)

BACKUP_SETTINGS_FILE = "settings.json"


def _settings_hash(training: dict[str, Any], shards: list[Path]) -> str:
    """What a backup must match to be resumed: model/optimiser settings and the data."""
    relevant = {
        k: v
        for k, v in training.items()
        if k not in {"epochs", "sample_grid_every", "checkpoint_every"}
    }
    payload = json.dumps(
        {"training": relevant, "shards": [p.name for p in shards]}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _read_epoch(metadata: Path) -> int | None:
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prepare_backup(backup_dir: Path, settings_hash: str) -> int:
    """Keep a backup made with the same settings; set aside any other.

    Returns the number of epochs the backup holds (0 without one). A run killed while Keras
    wrote the backup falls back to the previous copy (``double_checkpoint``).
    """
    settings_file = backup_dir / BACKUP_SETTINGS_FILE
    if backup_dir.exists():
        recorded = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
        if recorded.get("settings_hash") != settings_hash:
            stale = backup_dir.with_name(f"{backup_dir.name}.stale-{int(time.time())}")
            logger.warning(
                "Training backup in %s was made with other settings; moved to %s, starting afresh",
                backup_dir,
                stale,
            )
            shutil.move(backup_dir, stale)
    backup_dir.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps({"settings_hash": settings_hash}))
    metadata = backup_dir / "training_metadata.json"
    if not metadata.exists():
        return 0
    epochs = _read_epoch(metadata)
    if epochs is None:
        previous = metadata.with_name(metadata.name + ".bkp")
        previous_weights = backup_dir / "latest.weights.h5.bkp"
        epochs = _read_epoch(previous) if previous_weights.is_file() else None
        if epochs is None:
            logger.warning("Training backup in %s is unreadable; starting afresh", backup_dir)
            for file in backup_dir.iterdir():
                if file.name != BACKUP_SETTINGS_FILE:
                    file.unlink()
            return 0
        shutil.copy(previous, metadata)
        shutil.copy(previous_weights, backup_dir / "latest.weights.h5")
    logger.info(
        "Resuming training from epoch %d (%d completed, backup in %s)",
        epochs + 1,
        epochs,
        backup_dir,
    )
    return epochs


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Save the generator as ``.keras`` every ``every`` epochs (the seed kept one per 10)."""

    def __init__(self, directory: Path, every: int) -> None:
        super().__init__()
        self.directory, self.every = directory, every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.every > 0 and (epoch + 1) % self.every == 0:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"generator_epoch_{epoch + 1:04d}.keras"
            self.model.generator.save(path)


def build_pix2pix(training: dict[str, Any]) -> tuple[Pix2Pix, str]:
    """The compiled model from the ``training`` parameters, and where VGG's weights came from."""
    size, width = int(training["image_size"]), int(training["base_filters"])
    perceptual_options = training["perceptual"]
    perceptual = None
    weights_source = "unused"
    if float(perceptual_options["weight"]) > 0:
        weights = resolve_vgg_weights(str(perceptual_options["vgg_weights"]))
        weights_source = weights.source
        if mlflow.active_run() is not None:
            mlflow.set_tags({"vgg_weights": weights.source, "vgg_weights_note": weights.note})
        features = build_vgg16_features(weights, perceptual_options["layers"], size)
        perceptual = PerceptualLoss(features)
    model = Pix2Pix(
        build_generator(
            size, width, dropout=float(training["dropout"]), normalization=training["normalization"]
        ),
        build_discriminator(size, width, normalization=training["normalization"]),
        perceptual,
    )
    adam = {"learning_rate": float(training["learning_rate"]), "beta_1": float(training["beta_1"])}
    model.compile(
        g_optimizer=keras.optimizers.Adam(**adam),
        d_optimizer=keras.optimizers.Adam(**adam),
        l1_weight=float(training["l1_weight"]),
        perceptual_weight=float(perceptual_options["weight"]),
    )
    return model, weights_source


def train_generator(
    pair_shards: dict[str, Any], training: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """Fit pix2pix on the train split (validation split for val_ metrics); return the generator."""
    train_files, validation_files = (
        shard_paths(pair_shards, "train"),
        shard_paths(pair_shards, "validation"),
    )
    if not train_files:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    keras.utils.set_random_seed(int(training["seed"]))
    size, batch_size = int(training["image_size"]), int(training["batch_size"])
    model, weights_source = build_pix2pix(training)
    data = {"image_size": size, "batch_size": batch_size, "seed": int(training["seed"])}
    train_data = pair_dataset(
        train_files,
        training=True,
        jitter=bool(training["jitter"]),
        flip=bool(training["flip"]),
        shuffle_buffer=int(training["shuffle_buffer"]),
        **data,
    )
    validation_data = (
        pair_dataset(validation_files, training=False, **data) if validation_files else None
    )
    sample_sketches, sample_photos = next(
        iter(validation_data or pair_dataset(train_files, training=False, **data))
    )
    n_samples = min(4, len(sample_sketches))

    backup_dir = Path(training["backup_dir"])
    initial_epoch = _prepare_backup(
        backup_dir, _settings_hash(training, train_files + validation_files)
    )
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=True, double_checkpoint=True),
        MlflowMetricsLogger(),
        SampleGridLogger(
            np.asarray(sample_sketches[:n_samples]), np.asarray(sample_photos[:n_samples]),
            every_n_epochs=int(training["sample_grid_every"]), output_dir=Path(training["sample_dir"]),
        ),
        GeneratorCheckpoint(Path(training["checkpoint_dir"]), int(training["checkpoint_every"])),
    ]  # fmt: skip
    n_train = count_pairs(train_files)
    logger.info(
        "Training pix2pix %dpx, base %d filters, on %d pairs for %d epochs (batch %d, VGG weights: %s)",
        size, int(training["base_filters"]), n_train, int(training["epochs"]), batch_size, weights_source,
    )  # fmt: skip
    started = time.perf_counter()
    history = model.fit(
        train_data,
        validation_data=validation_data,
        epochs=int(training["epochs"]),
        callbacks=callbacks,
        verbose=2,
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(backup_dir, ignore_errors=True)  # training completed: nothing to resume
    summary = {
        "epochs": int(training["epochs"]),
        "resumed_from_epoch": initial_epoch,
        "train_pairs": n_train,
        "validation_pairs": count_pairs(validation_files) if validation_files else 0,
        "seconds": round(seconds, 1),
        "vgg_weights": weights_source,
        "generator_parameters": int(model.generator.count_params()),
        "discriminator_parameters": int(model.discriminator.count_params()),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }
    return model.generator, summary
