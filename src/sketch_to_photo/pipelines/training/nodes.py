"""Nodes of the training pipeline.

The model code is plain Keras (:mod:`sketch_to_photo.models`); this node wires it to the
shards, the configuration and MLflow (kedro-mlflow's run is active inside the node).
A run killed during training resumes from its last completed epoch: Keras'
``BackupAndRestore`` keeps a backup in ``training.backup_dir``, tied to the settings that
made it, and deletes it when training completes.

``training.strategy`` picks the ``tf.distribute`` strategy (:mod:`sketch_to_photo.models.distribute`),
``training.precision`` the Keras dtype policy and ``training.jit_compile`` XLA; the model and its
optimizers are built inside the strategy's scope and ``training.batch_size`` is the global batch.
Under ``multi_worker`` only the chief (worker 0) logs to MLflow and writes samples and
checkpoints; every worker keeps its own backup (see docs/scaling.md).
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
import tensorflow as tf

from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.models import (
    PerceptualLoss,
    Pix2Pix,
    build_discriminator,
    build_generator,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models.callbacks import (
    LinearLearningRateDecay,
    MlflowMetricsLogger,
    RealShareSchedule,
    SampleGridLogger,
)
from sketch_to_photo.models.data import count_pairs, mixed_pair_dataset, pair_dataset
from sketch_to_photo.models.distribute import TrainingStrategy, make_strategy
from sketch_to_photo.models.precision import has_gpu, set_precision_policy, wrap_optimizer
from sketch_to_photo.pairs import split_shards, training_shards
from sketch_to_photo.tracking import log_shards_dataset

logger = logging.getLogger(__name__)

BACKUP_SETTINGS_FILE = "settings.json"


JIT_CHOICES = ("auto", True, False)


def _settings_hash(
    training: dict[str, Any], shards: ShardLoaders, resolved: dict[str, Any] | None = None
) -> str:
    """What a backup must match to be resumed: model/optimiser settings and the data.

    The data is each shard's name and version (the fingerprint it was computed from, else its
    file's size and modification time), so rewritten shards start a fresh training.
    ``resolved`` holds what ``auto`` settings became on this machine (the precision policy
    changes the optimizer's variables, so a backup made under another one cannot be loaded).
    """
    relevant = {
        k: v
        for k, v in training.items()
        if k not in {"epochs", "sample_grid_every", "checkpoint_every"}
    }
    payload = json.dumps(
        {
            "training": relevant,
            "shards": {name: load().version for name, load in shards.items()},
            "resolved": resolved or {},
        },
        sort_keys=True,
        default=str,
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


def resolve_jit_compile(option: Any) -> bool:
    """``training.jit_compile``: ``auto`` is XLA on a GPU and off on a CPU (slower here)."""
    if option not in JIT_CHOICES:  # YAML gives booleans for true/false
        raise ValueError(f"training.jit_compile must be auto, true or false, got {option!r}")
    return has_gpu() if option == "auto" else bool(option)


def build_pix2pix(
    training: dict[str, Any],
    strategy: tf.distribute.Strategy | None = None,
    num_classes: int = 0,
) -> tuple[Pix2Pix, dict[str, Any]]:
    """The compiled model from the ``training`` parameters, and how it was set up.

    ``num_classes > 0`` builds the class-aware networks (the category is an input of both).

    The second value holds ``vgg_weights`` (where VGG's weights came from), ``precision``
    (the dtype policy applied) and ``jit_compile``. Everything with variables (both networks,
    VGG, the optimizers) is created inside ``strategy.scope()``. The global dtype policy is
    restored afterwards: layers keep the policy they were built with, and later nodes in the
    same process should not inherit it.
    """
    size, width = int(training["image_size"]), int(training["base_filters"])
    perceptual_options = training["perceptual"]
    jit_compile = resolve_jit_compile(training.get("jit_compile", "auto"))
    previous_policy = keras.mixed_precision.global_policy().name
    policy = set_precision_policy(str(training["precision"]))
    try:
        with (strategy or tf.distribute.get_strategy()).scope():
            perceptual = None
            weights_source = "unused"
            if float(perceptual_options["weight"]) > 0:
                weights = resolve_vgg_weights(str(perceptual_options["vgg_weights"]))
                weights_source = weights.source
                if mlflow.active_run() is not None:
                    mlflow.set_tags(
                        {"vgg_weights": weights.source, "vgg_weights_note": weights.note}
                    )
                features = build_vgg16_features(weights, perceptual_options["layers"], size)
                perceptual = PerceptualLoss(features)
            normalization = training["normalization"]
            model = Pix2Pix(
                build_generator(
                    size,
                    width,
                    dropout=float(training["dropout"]),
                    normalization=normalization,
                    num_classes=num_classes,
                ),
                build_discriminator(
                    size,
                    width,
                    normalization=normalization,
                    num_classes=num_classes,
                    spectral_norm=bool(training["spectral_norm"]),
                ),
                perceptual,
            )
            adam = {
                "learning_rate": float(training["learning_rate"]),
                "beta_1": float(training["beta_1"]),
            }
            model.compile(
                g_optimizer=wrap_optimizer(keras.optimizers.Adam(**adam), policy),
                d_optimizer=wrap_optimizer(keras.optimizers.Adam(**adam), policy),
                l1_weight=float(training["l1_weight"]),
                perceptual_weight=float(perceptual_options["weight"]),
                jit_compile=jit_compile,
            )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return model, {"vgg_weights": weights_source, "precision": policy, "jit_compile": jit_compile}


def _validation_batching(n_pairs: int, batch_size: int, replicas: int) -> tuple[int, bool]:
    """Batch size and ``drop_remainder`` for validation split evenly over ``replicas``.

    Keras needs the first batch to split into equal parts, and a last batch smaller than the
    replica count would leave a replica empty (a mean over nothing is NaN). Prefer a multiple of
    ``replicas`` that keeps every pair; otherwise drop the few left over.
    """
    if replicas <= 1:
        return batch_size, False
    largest = min(batch_size, n_pairs) // replicas * replicas
    for candidate in range(largest, 0, -replicas):
        remainder = n_pairs % candidate
        if remainder == 0 or remainder >= replicas:
            return candidate, False
    return max(largest, replicas), True


def _log_setup(setup: dict[str, str]) -> None:
    if mlflow.active_run() is None:
        return
    try:
        mlflow.set_tags(setup)
    except Exception as exc:  # tracking is not worth failing a training run for
        logger.warning("Could not record the training setup in MLflow: %s", exc)


def _check_global_batch(batch_size: int, replicas: int, n_train: int) -> None:
    if batch_size % replicas:
        raise ValueError(
            f"training.batch_size ({batch_size}) is the global batch, split evenly over "
            f"{replicas} replicas: make it a multiple of {replicas}"
        )
    if replicas > 1 and n_train < batch_size:
        raise ValueError(
            f"{n_train} training pairs make no full batch of {batch_size}; with {replicas} "
            "replicas partial batches are dropped, so lower training.batch_size"
        )


def skip_symbolic_build(model: keras.Model) -> None:
    """Keras 3 averages a first batch with ``strategy.reduce`` to build a model symbolically,
    which fails on PerReplica values under MultiWorkerMirroredStrategy (keras-team/keras#20585);
    Pix2Pix is built and compiled already, so there is nothing to build. Private Keras API:
    ``tests/pipelines/training/test_nodes.py`` fails if ``fit`` stops calling it."""
    model._maybe_symbolic_build = lambda *args, **kwargs: None


def _pair_datasets(
    train_shards: ShardLoaders,
    validation_shards: ShardLoaders,
    n_validation: int,
    training: dict[str, Any],
    data: dict[str, int],
    distribution: TrainingStrategy,
    edge_mix: tuple[ShardLoaders, tf.Variable] | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """The shuffled, augmented train batches (mixed with the edge-map pairs at the variable's
    share when ``edge_mix`` is given) and the validation batches (None when too few)."""
    batch_size, replicas = int(training["batch_size"]), distribution.replicas
    options = {
        "batch_size": batch_size,
        "jitter": bool(training["jitter"]),
        "flip": bool(training["flip"]),
        "shuffle_buffer": int(training["shuffle_buffer"]),
        # A last batch smaller than the replica count would leave a replica empty (NaN losses).
        "drop_remainder": replicas > 1,
        **data,
    }
    if edge_mix is None:
        train_data = pair_dataset(train_shards, training=True, **options)
    else:
        train_data = mixed_pair_dataset(
            train_shards,
            *edge_mix,
            real_l1_weight=float(training["edge_maps"]["real_l1_weight"]),
            **options,
        )
    validation_batch, validation_drop = _validation_batching(n_validation, batch_size, replicas)
    validation_data = (
        pair_dataset(
            validation_shards,
            training=False,
            batch_size=validation_batch,
            drop_remainder=validation_drop,
            **data,
        )
        if n_validation >= replicas
        else None
    )
    if distribution.num_workers > 1:
        # Every worker reads the same seeded stream and keeps its share of each batch; the
        # shards are read through their loaders in Python, which file-based auto-sharding
        # cannot split.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        train_data = train_data.with_options(options)
        validation_data = validation_data.with_options(options) if validation_data else None
    return train_data, validation_data


def _callbacks(
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
        keras.callbacks.BackupAndRestore(str(backup_dir), delete_checkpoint=True, double_checkpoint=True),
    ]  # fmt: skip
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
            LinearLearningRateDecay(float(training["learning_rate"]), int(training["epochs"]))
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


def _grid_samples(
    validation_data: tf.data.Dataset | None,
    train_shards: ShardLoaders,
    batch_size: int,
    data: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Four fixed pairs (validation when there is any) shown in the sample grids."""
    inputs, photos = next(
        iter(
            validation_data
            or pair_dataset(train_shards, training=False, batch_size=batch_size, **data)
        )
    )
    sketches, categories = inputs if data["num_classes"] else (inputs, None)
    n = min(4, len(sketches))
    return (
        np.asarray(sketches[:n]),
        np.asarray(photos[:n]),
        None if categories is None else np.asarray(categories[:n]),
    )


def _edge_mix(
    edge_map_shards: ShardLoaders, training: dict[str, Any]
) -> tuple[ShardLoaders, tf.Variable] | None:
    """The edge-map shards and the real-share variable when ``training.edge_maps`` is on."""
    if not bool(training["edge_maps"]["enabled"]):
        return None
    shards = split_shards(edge_map_shards, "train")
    if not shards or count_pairs(shards) == 0:
        raise ValueError(
            "training.edge_maps.enabled is true but there are no edge-map shards: run "
            "`kedro run --pipelines data_processing` first (it writes edge_map_shards), or set "
            "training.edge_maps.enabled=false"
        )
    # created outside any strategy scope: the input pipeline reads it on the host
    start = float(training["edge_maps"]["real_share_start"])
    return shards, tf.Variable(start, trainable=False, dtype=tf.float32, name="real_share")


def train_generator(
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
    inputs (:func:`sketch_to_photo.tracking.log_shards_dataset`).
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
    _check_global_batch(batch_size, distribution.replicas, n_train)
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
    edge_mix = _edge_mix(edge_map_shards, training)
    if distribution.is_chief:  # the data as the run list's Dataset column shows it
        log_shards_dataset(pair_shards, pairs_manifest)
        if edge_mix is not None:
            log_shards_dataset(edge_mix[0], pairs_manifest, kind="edge maps")
    train_data, validation_data = _pair_datasets(
        train_shards, validation_shards, n_validation, training, data, distribution, edge_mix
    )
    edge_versions = (
        {f"edge_maps/{name}": load for name, load in edge_mix[0].items()} if edge_mix else {}
    )
    backup_dir = Path(training["backup_dir"])
    if not distribution.is_chief:  # workers may share a filesystem: one backup each
        backup_dir = backup_dir.with_name(f"{backup_dir.name}-worker{distribution.worker_index}")
    initial_epoch = _prepare_backup(
        backup_dir,
        _settings_hash(
            training,
            {**train_shards, **validation_shards, **edge_versions},
            {"precision": setup["precision"], "replicas": distribution.replicas},
        ),
    )
    callbacks = _callbacks(
        training,
        distribution,
        backup_dir,
        _grid_samples(validation_data, train_shards, batch_size, data),
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
