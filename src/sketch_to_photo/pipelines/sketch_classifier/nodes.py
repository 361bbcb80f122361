"""Nodes of the sketch_classifier pipeline (the seed's "this is a teapot, 97%")."""

from __future__ import annotations

import logging
import time
from typing import Any

import keras
import matplotlib
import mlflow
import numpy as np
from matplotlib.figure import Figure

from sketch_to_photo.models import build_sketch_classifier, resolve_vgg_weights
from sketch_to_photo.models.callbacks import MlflowMetricsLogger
from sketch_to_photo.models.data import pair_dataset
from sketch_to_photo.pairs import shard_paths
from sketch_to_photo.registry import log_and_register, promote_if_better

matplotlib.use("Agg")
logger = logging.getLogger(__name__)

REGISTERED_CLASSIFIER = "sketch_category"


def train_sketch_classifier(
    pair_shards: dict[str, Any], sketch_classifier: dict[str, Any], index: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """Fit the classifier on the train split's sketches (validation split for val_ metrics)."""
    options = sketch_classifier
    train_files, validation_files = (
        shard_paths(pair_shards, "train"),
        shard_paths(pair_shards, "validation"),
    )
    if not train_files:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    keras.utils.set_random_seed(int(options["seed"]))
    weights = resolve_vgg_weights(str(options["vgg_weights"]))
    train_backbone = options["train_backbone"]
    if train_backbone == "auto":  # random features are useless frozen: train them
        train_backbone = weights.source == "random"
    if mlflow.active_run() is not None:
        mlflow.set_tags(
            {
                "classifier_vgg_weights": weights.source,
                "classifier_train_backbone": str(train_backbone),
            }
        )
    size = int(options["image_size"])
    model = build_sketch_classifier(
        len(index["categories"]), size, weights, train_backbone=bool(train_backbone)
    )
    model.compile(
        optimizer=keras.optimizers.Adam(float(options["learning_rate"])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    data = {
        "image_size": size,
        "batch_size": int(options["batch_size"]),
        "seed": int(options["seed"]),
        "with_labels": True,
    }
    train_data = pair_dataset(train_files, training=True, jitter=True, flip=True, **data)
    validation_data = (
        pair_dataset(validation_files, training=False, **data) if validation_files else None
    )
    started = time.perf_counter()
    history = model.fit(
        train_data, validation_data=validation_data, epochs=int(options["epochs"]),
        callbacks=[MlflowMetricsLogger(prefix="classifier_")], verbose=2,
    )  # fmt: skip
    return model, {
        "seconds": round(time.perf_counter() - started, 1),
        "vgg_weights": weights.source,
        "train_backbone": bool(train_backbone),
        "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }


def _confusion_figure(confusion: np.ndarray, categories: list[str]) -> Figure:
    figure = Figure(
        figsize=(1.2 * len(categories) + 2, 1.2 * len(categories) + 1.5), layout="constrained"
    )
    ax = figure.subplots()
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(len(categories)), categories, rotation=45, ha="right")
    ax.set_yticks(range(len(categories)), categories)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (row, column), count in np.ndenumerate(confusion):
        colour = "white" if count > confusion.max() / 2 else "black"
        ax.text(column, row, str(count), ha="center", va="center", color=colour)
    ax.set_title("sketch classifier, test split")
    return figure


def evaluate_sketch_classifier(
    model: keras.Model,
    pair_shards: dict[str, Any],
    sketch_classifier: dict[str, Any],
    index: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Figure]:
    """Accuracy overall and per category, and the confusion matrix, on the test split."""
    categories = list(index["categories"])
    test_files = shard_paths(pair_shards, "test")
    if not test_files:
        raise ValueError("No test shards: run `kedro run --pipelines data_processing` first.")
    dataset = pair_dataset(
        test_files,
        image_size=int(sketch_classifier["image_size"]),
        batch_size=32,
        training=False,
        with_labels=True,
    )
    confusion = np.zeros((len(categories), len(categories)), np.int64)
    for sketches, labels in dataset:
        predicted = np.argmax(model.predict(sketches, verbose=0), axis=1)
        np.add.at(confusion, (labels.numpy(), predicted), 1)
    total = int(confusion.sum())
    report = {
        "test_sketches": total,
        "accuracy": float(np.trace(confusion) / max(total, 1)),
        "per_category_accuracy": {
            c: float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else None
            for i, c in enumerate(categories)
        },
        "confusion_matrix": confusion.tolist(),
        "categories": categories,
        "chance_accuracy": 1.0 / len(categories),
    }
    logger.info("Sketch classifier test accuracy %.3f on %d sketches", report["accuracy"], total)
    metrics = {"classifier_test_accuracy": {"value": report["accuracy"], "step": 0}}
    return report, metrics, _confusion_figure(confusion, categories)


def register_sketch_classifier(
    model: keras.Model, sketch_classifier_report: dict[str, Any], index: dict[str, Any]
) -> dict[str, Any]:
    """Log and register the classifier with its category names; champion on test accuracy."""
    version = log_and_register(
        model,
        registered_name=REGISTERED_CLASSIFIER,
        artifact_name="sketch_classifier",
        metadata={"categories": list(index["categories"]), "image_size": int(model.input_shape[1])},
    )
    decision = promote_if_better(
        REGISTERED_CLASSIFIER,
        version,
        "classifier_test_accuracy",
        sketch_classifier_report["accuracy"],
        greater_is_better=True,
    )
    return {"model_uri": f"models:/{REGISTERED_CLASSIFIER}/{version}", **decision.as_dict()}
