"""The faithfulness judge: a photo classifier trained on the unique real train-split photos
(an ensemble of seeds averaged into one model), its batch-norm statistics recalibrated, and a
summary saying which judge it is. Each member's fit logs its progress."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

import keras
import mlflow
import numpy as np

from sketch_to_photo.data.pairs import shard_labels, split_shards
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.models import resolve_vgg_weights
from sketch_to_photo.models.callbacks import ProgressLogger
from sketch_to_photo.models.data import unique_photos
from sketch_to_photo.models.faithfulness import JudgeSettings, judge_predictions, train_judge

logger = logging.getLogger(__name__)


def judge_settings(evaluation: dict[str, Any]) -> tuple[JudgeSettings, int, str]:
    """``evaluation.faithfulness`` -> (training settings, ensemble size, weights option)."""
    options = dict(evaluation["faithfulness"])
    settings = JudgeSettings(
        image_size=int(options["image_size"]),
        epochs=int(options["epochs"]),
        batch_size=int(options["batch_size"]),
        learning_rate=float(options["learning_rate"]),
        seed=int(options["seed"]),
    )
    ensemble = int(options.get("ensemble", 1))
    if ensemble < 1:
        raise ValueError(f"evaluation.faithfulness.ensemble must be at least 1, got {ensemble}")
    return settings, ensemble, str(options.get("weights", "auto"))


def _batch_norm_layers(model: keras.Layer) -> list[keras.layers.BatchNormalization]:
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        else:
            found.extend(_batch_norm_layers(layer))
    return found


def recalibrate_batch_norm(model: keras.Model, images: np.ndarray, chunk: int = 256) -> None:
    """Set every BatchNormalization layer's moving statistics to those of ``images``.

    Keras' moving averages (momentum 0.99) need many hundred steps to forget their initial
    values; a judge fitted in a few hundred steps on a few hundred photos then predicts one
    class in inference mode (measured: train accuracy 25% before this, 100% after, on the
    synthetic data; docs/faithfulness.md). One pass in training mode with momentum ``k/(k+1)``
    for chunk ``k`` leaves the average of the chunks' batch statistics.
    """
    layers = _batch_norm_layers(model)
    if not layers or len(images) == 0:
        return
    saved = [layer.momentum for layer in layers]
    try:
        for k, start in enumerate(range(0, len(images), chunk)):
            for layer in layers:
                layer.momentum = k / (k + 1)
            model(images[start : start + chunk], training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def train_judge_ensemble(
    pair_shards: ShardLoaders, settings: JudgeSettings, ensemble: int, weights_option: str
) -> tuple[keras.Model, dict[str, Any]]:
    """Train the photo judge on the unique real train-split photos; say which judge it is.

    ``ensemble`` judges (seeds ``settings.seed``, ``seed + 1``, ...) are averaged into one
    model: a single from-scratch judge on a few hundred photos swings by several points
    between seeds.
    """
    train_shards = split_shards(pair_shards, "train")
    if not train_shards:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    num_classes = max(shard_labels(pair_shards).values()) + 1
    photos, labels, _ = unique_photos(train_shards, image_size=settings.image_size)
    weights = resolve_vgg_weights(weights_option)
    logger.info(
        "Training the faithfulness judge: %d seed(s) x %d epochs on %d train photos",
        ensemble, settings.epochs, len(photos),
    )  # fmt: skip
    started = time.perf_counter()
    members = []
    for i in range(ensemble):
        progress = ProgressLogger(f"Faithfulness judge {i + 1} of {ensemble}", settings.epochs)
        member = train_judge(
            photos, labels, num_classes, JudgeSettings(**{**asdict(settings), "seed": settings.seed + i}), weights,
            callbacks=[progress],
        )  # fmt: skip
        recalibrate_batch_norm(member, photos)
        member.name = f"photo_judge_{i}"
        members.append(member)
    if ensemble == 1:
        judge = members[0]
    else:
        inputs = keras.Input((settings.image_size, settings.image_size, 3), name="image")
        outputs = keras.layers.Average(name="mean_probabilities")([m(inputs) for m in members])
        judge = keras.Model(inputs, outputs, name="photo_judge_ensemble")
    seconds = time.perf_counter() - started
    imagenet = weights.source != "random"
    train_accuracy = float(np.mean(judge_predictions(judge, photos) == labels))
    summary = {
        "judge": (
            f"VGG16 ({weights.source} weights, frozen) + dense head"
            if imagenet
            else "small CNN trained from scratch (no ImageNet weights)"
        ),
        "backbone": "vgg16" if imagenet else "small_cnn",
        "weights": weights.source,
        "weights_note": weights.note,
        "ensemble": ensemble,
        **asdict(settings),
        "num_classes": num_classes,
        "train_photos": int(len(photos)),
        "train_photos_per_class": np.bincount(labels, minlength=num_classes).tolist(),
        "train_accuracy": train_accuracy,
        "seconds": round(seconds, 1),
    }
    logger.info(
        "Faithfulness judge: %s, %d px, %d epochs x %d seed(s), %d train photos, %.1f s",
        summary["judge"], settings.image_size, settings.epochs, ensemble, len(photos), seconds,
    )  # fmt: skip
    if mlflow.active_run() is not None:
        mlflow.set_tags(
            {
                "faithfulness_judge": summary["judge"],
                "faithfulness_judge_settings": (
                    f"{settings.image_size}px, {settings.epochs} epochs, batch "
                    f"{settings.batch_size}, lr {settings.learning_rate:g}, seeds "
                    f"{settings.seed}..{settings.seed + ensemble - 1}, "
                    f"{len(photos)} train photos"
                ),
            }
        )
    return judge, summary
