"""Fitting pix2pix on the pair shards: the strategy, the model, the input, the callbacks
(resume from the backup, learning-rate and edge-map schedules, MLflow metrics, sample grids,
checkpoints), ``fit`` and the summary of what was trained. The training pipeline's node calls
:func:`train_pix2pix` inside kedro-mlflow's run.

A run killed during training resumes from its last completed epoch
(:mod:`sketch_to_photo.models.backup`). ``training.strategy`` picks the ``tf.distribute``
strategy (:mod:`sketch_to_photo.models.distribute`), ``training.precision`` the Keras dtype
policy and ``training.jit_compile`` XLA; the model and its optimizers are built inside the
strategy's scope and ``training.batch_size`` is the global batch. Under ``multi_worker`` only
the chief (worker 0) logs to MLflow and writes samples and checkpoints; every worker keeps its
own backup (see docs/scaling.md).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import Any

import keras
import mlflow
import tensorflow as tf

from sketch_to_photo.data.pairs import training_shards
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.mlops.tracking import log_shards_dataset
from sketch_to_photo.models.assembly import build_pix2pix, discriminator_learning_rate
from sketch_to_photo.models.backup import EpochBackupAndRestore, prepare_backup, settings_hash
from sketch_to_photo.models.callbacks import (
    GeneratorAverage,
    GeneratorCheckpoint,
    LinearLearningRateDecay,
    MlflowMetricsLogger,
    RealShareSchedule,
    SampleGridLogger,
)
from sketch_to_photo.models.data import count_pairs
from sketch_to_photo.models.distribute import (
    TrainingStrategy,
    check_global_batch,
    make_strategy,
    skip_symbolic_build,
)
from sketch_to_photo.models.training_inputs import edge_map_mix, grid_samples, pair_datasets

logger = logging.getLogger(__name__)


def _log_setup(setup: dict[str, str]) -> None:
    if mlflow.active_run() is None:
        return
    try:
        mlflow.set_tags(setup)
    except Exception as exc:  # tracking is not worth failing a training run for
        logger.warning("Could not record the training setup in MLflow: %s", exc)


def training_callbacks(
    training: dict[str, Any],
    distribution: TrainingStrategy,
    backup_dir: Path,
    samples: tuple[Any, Any, Any],
    real_share: tf.Variable | None = None,
) -> list[keras.callbacks.Callback]:
    """Resume from the backup on every worker; metrics, sample grids and checkpoints on the
    chief only. ``samples`` are (sketches, photos, categories or None) for the grids;
    ``real_share`` the edge-map mix's variable, moved every epoch."""
    callbacks: list[keras.callbacks.Callback] = [
        EpochBackupAndRestore(backup_dir, int(training.get("backup_every", 1))),
    ]
    if float(training.get("generator_ema", 0.0)) > 0:  # before the final sample grid
        callbacks.append(GeneratorAverage())
    if real_share is not None:  # before the logger, which logs the share
        mix = training["edge_maps"]
        callbacks.append(
            RealShareSchedule(
                real_share,
                float(mix["real_share_start"]),
                float(mix["real_share_end"]),
                int(training["epochs"]),
            )
        )
    if training["lr_schedule"] == "linear_decay":  # before the logger, which logs the rate
        callbacks.append(
            LinearLearningRateDecay(
                float(training["learning_rate"]),
                int(training["epochs"]),
                discriminator_rate=discriminator_learning_rate(training),
            )
        )
    if distribution.is_chief:
        sketches, photos, categories = samples
        callbacks += [
            MlflowMetricsLogger(),
            SampleGridLogger(
                sketches, photos,
                every_n_epochs=int(training["sample_grid_every"]), output_dir=Path(training["sample_dir"]),
                categories=categories,
            ),
            GeneratorCheckpoint(Path(training["checkpoint_dir"]), int(training["checkpoint_every"])),
        ]  # fmt: skip
    return callbacks


def train_pix2pix(
    pair_shards: ShardLoaders,
    edge_map_shards: ShardLoaders,
    pairs_manifest: dict[str, Any],
    training: dict[str, Any],
) -> tuple[keras.Model, dict[str, Any]]:
    """Fit pix2pix on the train split (validation split for val_ metrics); return the generator.

    ``training.class_aware`` makes the category (from the shards' labels, named in the
    manifest) an input of the generator and the discriminator. ``training.edge_maps`` mixes
    the aligned edge-map pseudo-sketches of the train photos into the training stream.
    The pair shards (and the edge maps mixed in) are logged as the MLflow run's dataset
    inputs (:func:`sketch_to_photo.mlops.tracking.log_shards_dataset`).
    """
    # First: MultiWorkerMirroredStrategy must exist before TensorFlow runs anything.
    distribution: TrainingStrategy = make_strategy(str(training["strategy"]))
    train_shards, validation_shards = training_shards(pair_shards)
    keras.utils.set_random_seed(int(training["seed"]))
    size, batch_size, epochs = (
        int(training["image_size"]),
        int(training["batch_size"]),
        int(training["epochs"]),
    )
    n_train = count_pairs(train_shards)
    n_validation = count_pairs(validation_shards)
    check_global_batch(batch_size, distribution.replicas, n_train)
    categories = list(pairs_manifest["categories"])
    num_classes = len(categories) if bool(training["class_aware"]) else 0

    model, setup = build_pix2pix(training, distribution.strategy, num_classes)
    if distribution.num_workers > 1:
        skip_symbolic_build(model)
    if distribution.is_chief:
        _log_setup(
            {
                **distribution.describe(),
                "precision": setup["precision"],
                "jit_compile": str(setup["jit_compile"]).lower(),
            }
        )
    data = {"image_size": size, "seed": int(training["seed"]), "num_classes": num_classes}
    edge_mix = edge_map_mix(edge_map_shards, training)
    if distribution.is_chief:  # the data as the run list's Dataset column shows it
        log_shards_dataset(pair_shards, pairs_manifest)
        if edge_mix is not None:
            log_shards_dataset(edge_mix[0], pairs_manifest, kind="edge maps")
    train_data, validation_data = pair_datasets(
        train_shards, validation_shards, n_validation, training, data, distribution, edge_mix
    )
    edge_versions = (
        {f"edge_maps/{name}": load for name, load in edge_mix[0].items()} if edge_mix else {}
    )
    backup_dir = Path(training["backup_dir"])
    if not distribution.is_chief:  # workers may share a filesystem: one backup each
        backup_dir = backup_dir.with_name(f"{backup_dir.name}-worker{distribution.worker_index}")
    initial_epoch = prepare_backup(
        backup_dir,
        settings_hash(
            training,
            {**train_shards, **validation_shards, **edge_versions},
            {"precision": setup["precision"], "replicas": distribution.replicas},
        ),
    )
    callbacks = training_callbacks(
        training,
        distribution,
        backup_dir,
        grid_samples(validation_data, train_shards, batch_size, data),
        None if edge_mix is None else edge_mix[1],
    )
    logger.info(
        "Training pix2pix %dpx, base %d filters, on %d pairs for %d epochs (global batch %d, "
        "VGG weights: %s, precision %s, XLA %s, %s over %d replica(s) on %s)",
        size, int(training["base_filters"]), n_train, epochs, batch_size,
        setup["vgg_weights"], setup["precision"], setup["jit_compile"], distribution.kind,
        distribution.replicas, ", ".join(distribution.devices),
    )  # fmt: skip
    started = time.perf_counter()
    history = model.fit(
        train_data, validation_data=validation_data, epochs=epochs, callbacks=callbacks, verbose=2
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(backup_dir, ignore_errors=True)  # training completed: nothing to resume
    summary = {
        "epochs": epochs,
        "resumed_from_epoch": initial_epoch,
        "train_pairs": n_train,
        "categories": categories,
        "class_aware": num_classes > 0,
        "image_size": size,
        "validation_pairs": n_validation,
        "edge_map_pairs": count_pairs(edge_mix[0]) if edge_mix else 0,
        "seconds": round(seconds, 1),
        "vgg_weights": setup["vgg_weights"],
        "precision": setup["precision"],
        "jit_compile": setup["jit_compile"],
        "strategy": distribution.describe(),
        "generator_parameters": int(model.generator.count_params()),
        "discriminator_parameters": int(model.discriminator.count_params()),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }
    return model.generator, summary
