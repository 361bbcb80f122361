"""Nodes of the sketch_classifier pipeline (the seed's "this is a teapot, 97%").

The backbone is VGG16 with pretrained weights when they can be had, else a small CNN trained
from scratch (`sketch_classifier.backbone`); docs/sketch_classifier.md has the measurements.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import keras
import matplotlib
import mlflow
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure
from mlflow import MlflowClient

from sketch_to_photo.app.model_card import CLASSIFIER, registry_card
from sketch_to_photo.data.pairs import split_shards, training_shards
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.mlops.model_registry import (
    describe_version,
    log_and_register,
    promote_if_better,
)
from sketch_to_photo.mlops.tracking import categories_label, log_shards_dataset
from sketch_to_photo.models import (
    VggWeights,
    VggWeightsUnavailable,
    build_sketch_classifier,
    resolve_vgg_weights,
)
from sketch_to_photo.models.callbacks import MlflowMetricsLogger
from sketch_to_photo.models.classifier import build_small_classifier
from sketch_to_photo.models.data import count_pairs, pair_dataset, training_steps_per_epoch

matplotlib.use("Agg")
logger = logging.getLogger(__name__)

REGISTERED_CLASSIFIER = "sketch_category"


BACKBONES = ("auto", "vgg16", "small")
LR_SCHEDULES = ("constant", "cosine")


def choose_backbone(options: dict[str, Any]) -> tuple[str, VggWeights | None, str]:
    """``(backbone, vgg_weights, note)`` for ``sketch_classifier.backbone``.

    ``auto`` takes VGG16 only with pretrained weights (ImageNet or a file) and otherwise the
    small CNN: VGG16 trained from random weights on a few thousand sketches collapses to one
    class (docs/sketch_classifier.md). ``vgg16`` is VGG16 whatever its weights; ``small`` never
    looks for VGG16 weights.
    """
    backbone = str(options.get("backbone", "auto")).strip().lower()
    if backbone not in BACKBONES:
        raise ValueError(f"sketch_classifier.backbone must be one of {BACKBONES}, got {backbone!r}")
    if backbone == "small":
        return "small", None, "small CNN (option 'small')"
    weights_option = str(options.get("vgg_weights", "auto"))
    if backbone == "vgg16":
        weights = resolve_vgg_weights(weights_option)
        if weights.source == "random":
            logger.warning(
                "Sketch classifier: VGG16 from random weights; on real sketches this recipe "
                "collapsed to one class. backbone: small (or auto) trains a CNN that learns."
            )
        return "vgg16", weights, f"VGG16, {weights.note}"
    if weights_option.strip().lower() == "none":
        return "small", None, "auto: vgg_weights is 'none', so the small CNN"
    try:
        weights = resolve_vgg_weights(weights_option)
    except VggWeightsUnavailable as error:
        logger.warning("Sketch classifier: %s; using the small CNN instead.", error)
        return "small", None, f"auto: no VGG16 weights ({error}), so the small CNN"
    if weights.source == "random":
        return "small", None, "auto: no pretrained VGG16 weights, so the small CNN"
    return "vgg16", weights, f"auto: VGG16, {weights.note}"


def _learning_rate(options: dict[str, Any], total_steps: int) -> float | Any:
    rate = float(options["learning_rate"])
    schedule = str(options.get("lr_schedule", "constant"))
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"sketch_classifier.lr_schedule must be one of {LR_SCHEDULES}")
    if schedule == "constant":
        return rate
    return keras.optimizers.schedules.CosineDecay(rate, decay_steps=max(total_steps, 1))


def _stroke_and_erasing(probability_stroke: float, probability_erase: float, seed: int) -> Any:
    """A batch map: random stroke thickness (min/max filter) and random erasing (white box).

    Sketches are dark strokes on white in [-1, 1]: a 3x3 minimum filter thickens the strokes,
    a maximum filter thins them; each sketch gets one, the other or none. Erasing paints a
    random rectangle (10-30% of each side) white, as if part of the drawing were missing.
    """
    generator = tf.random.Generator.from_seed(seed)

    def augment(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        batch = tf.shape(images)[0]
        size = tf.shape(images)[1]
        if probability_stroke > 0:
            thick = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
            thin = tf.nn.max_pool2d(images, 3, 1, "SAME")
            draw = generator.uniform([batch, 1, 1, 1])
            half = probability_stroke / 2
            images = tf.where(draw < half, thick, tf.where(draw < 2 * half, thin, images))
        if probability_erase > 0:
            sizef = tf.cast(size, tf.float32)
            extent = generator.uniform([batch, 2], 0.1, 0.3) * sizef
            corner = generator.uniform([batch, 2]) * (sizef - extent)
            grid = tf.cast(tf.range(size), tf.float32)
            rows = (grid[None, :] >= corner[:, :1]) & (
                grid[None, :] < corner[:, :1] + extent[:, :1]
            )
            cols = (grid[None, :] >= corner[:, 1:]) & (
                grid[None, :] < corner[:, 1:] + extent[:, 1:]
            )
            box = rows[:, :, None] & cols[:, None, :]
            box &= generator.uniform([batch, 1, 1]) < probability_erase
            images = tf.where(box[..., None], tf.ones_like(images), images)
        return images, labels

    return augment


def train_sketch_classifier(
    pair_shards: ShardLoaders,
    edge_map_shards: ShardLoaders,
    sketch_classifier: dict[str, Any],
    pairs_manifest: dict[str, Any],
) -> tuple[keras.Model, dict[str, Any]]:
    """Fit the classifier on the train split's sketches (validation split for val_ metrics).

    The backbone is ``sketch_classifier.backbone`` (see :func:`choose_backbone`); which one was
    used is tagged in MLflow (``classifier_backbone``) and written in the history. With
    ``sketch_classifier.edge_maps`` the train photos' edge-map pseudo-sketches are extra
    training sketches (validation and test stay real sketches).
    """
    options = sketch_classifier
    train_shards, validation_shards = training_shards(pair_shards)
    if bool(options.get("edge_maps", False)):
        train_shards = {
            **train_shards,
            **{f"edge_maps/{name}": load for name, load in edge_map_shards.items()},
        }
    keras.utils.set_random_seed(int(options["seed"]))
    backbone, weights, note = choose_backbone(options)
    logger.info("Sketch classifier backbone: %s (%s)", backbone, note)
    num_classes = len(pairs_manifest["categories"])  # in label order
    size = int(options["image_size"])
    train_backbone: bool | None = None
    if backbone == "vgg16":
        assert weights is not None
        train_backbone = options.get("train_backbone", "auto")
        if train_backbone == "auto":  # random features are useless frozen: train them
            train_backbone = weights.source == "random"
        model = build_sketch_classifier(
            num_classes, size, weights, train_backbone=bool(train_backbone)
        )
    else:
        model = build_small_classifier(
            num_classes,
            size,
            widths=tuple(int(w) for w in options.get("widths", (32, 64, 128, 256))),
            dropout=float(options.get("dropout", 0.3)),
            augment=bool(options.get("augment", True)),
        )
    tags = {
        "classifier_backbone": backbone,
        "classifier_vgg_weights": weights.source if weights is not None else "unused",
        "classifier_train_backbone": str(train_backbone),
    }
    if mlflow.active_run() is not None:
        mlflow.set_tags(tags)
    log_shards_dataset(pair_shards, pairs_manifest)  # once per run, with the generator's
    if bool(options.get("edge_maps", False)):
        log_shards_dataset(edge_map_shards, pairs_manifest, kind="edge maps")

    batch_size = int(options["batch_size"])
    epochs = int(options["epochs"])
    passes = training_steps_per_epoch(count_pairs(train_shards), batch_size)
    steps_per_epoch = max(passes, math.ceil(int(options.get("min_steps", 0)) / epochs))
    steps = steps_per_epoch * epochs
    smoothing = float(options.get("label_smoothing", 0.0))
    model.compile(
        optimizer=keras.optimizers.Adam(_learning_rate(options, steps)),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    data = {"image_size": size, "batch_size": batch_size, "seed": int(options["seed"])}
    # The small CNN mirrors, shifts and zooms inside the model; VGG16 gets pix2pix's jitter.
    jitter = backbone == "vgg16" or not bool(options.get("augment", True))
    train_data = pair_dataset(
        train_shards, training=True, jitter=jitter, flip=jitter, with_labels=True, **data
    )
    stroke = float(options.get("stroke_augment", 0.0))
    erase = float(options.get("random_erasing", 0.0))
    if stroke > 0 or erase > 0:
        train_data = train_data.map(_stroke_and_erasing(stroke, erase, int(options["seed"])))

    def one_hot(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return images, tf.one_hot(labels, num_classes)

    train_data = train_data.map(one_hot)
    if steps_per_epoch > passes:
        # A few photos per category give a handful of batches per epoch: without a floor on
        # the steps the classifier stops after a few dozen updates, still answering one class.
        logger.info(
            "Sketch classifier: %d batches per pass; %d steps per epoch to reach "
            "sketch_classifier.min_steps=%s",
            passes, steps_per_epoch, options.get("min_steps"),
        )  # fmt: skip
        train_data = train_data.repeat()
    validation_data = (
        pair_dataset(validation_shards, training=False, with_labels=True, **data).map(one_hot)
        if validation_shards
        else None
    )
    started = time.perf_counter()
    history = model.fit(
        train_data, validation_data=validation_data, epochs=epochs,
        steps_per_epoch=steps_per_epoch if steps_per_epoch > passes else None,
        callbacks=[MlflowMetricsLogger(prefix="classifier_")], verbose=2,
    )  # fmt: skip
    return model, {
        "seconds": round(time.perf_counter() - started, 1),
        "backbone": backbone,
        "backbone_note": note,
        "vgg_weights": tags["classifier_vgg_weights"],
        "train_backbone": train_backbone,
        "parameters": int(model.count_params()),
        "train_sketches": count_pairs(train_shards),
        "steps": steps,
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
    pair_shards: ShardLoaders,
    sketch_classifier: dict[str, Any],
    pairs_manifest: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Figure]:
    """Accuracy overall and per category, and the confusion matrix, on the test split."""
    categories = list(pairs_manifest["categories"])
    test_shards = split_shards(pair_shards, "test")
    if not test_shards:
        raise ValueError("No test shards: run `kedro run --pipelines data_processing` first.")
    dataset = pair_dataset(
        test_shards,
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
    accuracy = float(np.trace(confusion) / max(total, 1))
    # Always answering the test split's most frequent category scores this: the bar to beat.
    majority = float(confusion.sum(axis=1).max() / max(total, 1))
    report = {
        "test_sketches": total,
        "backbone": "small" if model.name == "small_classifier" else "vgg16",
        "accuracy": accuracy,
        "majority_class_accuracy": majority,
        "beats_chance": accuracy > majority,
        "per_category_accuracy": {
            c: float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else None
            for i, c in enumerate(categories)
        },
        "confusion_matrix": confusion.tolist(),
        "categories": categories,
        "chance_accuracy": 1.0 / len(categories),
    }
    logger.info(
        "Sketch classifier test accuracy %.3f on %d sketches (always the majority class: %.3f)",
        accuracy,
        total,
        majority,
    )
    metrics = {
        "classifier_test_accuracy": {"value": accuracy, "step": 0},
        "classifier_majority_class_accuracy": {"value": majority, "step": 0},
        # beside the generator's headline metrics (evaluation.metric_names.HEADLINE)
        "headline/classifier_accuracy": {"value": round(accuracy, 4), "step": 0},
        "headline/classifier_accuracy_majority_class": {"value": round(majority, 4), "step": 0},
    }
    return report, metrics, _confusion_figure(confusion, categories)


def register_sketch_classifier(
    model: keras.Model,
    sketch_classifier_report: dict[str, Any],
    pairs_manifest: dict[str, Any],
    sketch_classifier_history: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Log and register the classifier with its category names and model card (the version's
    description, its accuracy and data as tags); champion on test accuracy.

    A classifier that does not beat always answering the test split's most frequent category
    is registered (for inspection) but never made champion.
    """
    report = sketch_classifier_report
    history = sketch_classifier_history or {}
    per_split = pairs_manifest.get("per_split") or {}
    losses = (history.get("history") or {}).get("loss")
    metadata = {
        "kind": CLASSIFIER,
        "categories": list(pairs_manifest["categories"]),
        "image_size": int(model.input_shape[1]),
        "backbone": report.get("backbone"),
        "training": {
            "data_source": pairs_manifest.get("source"),
            "train_pairs": history.get("train_sketches"),  # edge maps included, when used
            "validation_pairs": (per_split.get("validation") or {}).get("pairs"),
            "epochs": None if losses is None else len(losses),
        },
        "test_pairs": report.get("test_sketches"),
        "test_metrics": {
            name: report.get(name)
            for name in ("accuracy", "majority_class_accuracy", "chance_accuracy")
        },
    }
    version = log_and_register(
        model,
        registered_name=REGISTERED_CLASSIFIER,
        artifact_name="sketch_classifier",
        metadata=metadata,
    )
    card = registry_card(MlflowClient(), REGISTERED_CLASSIFIER, version, metadata)
    describe_version(
        REGISTERED_CLASSIFIER,
        version,
        card.description(),
        {
            "accuracy": report.get("accuracy"),
            "accuracy_majority_class": report.get("majority_class_accuracy"),
            "data_source": pairs_manifest.get("source"),
            "categories": categories_label(metadata["categories"]),
            "image_size": metadata["image_size"],
            "epochs": metadata["training"]["epochs"],
            "backbone": metadata["backbone"],
        },
    )
    disqualified = None
    if not report.get("beats_chance", True):
        disqualified = (
            f"test accuracy {report['accuracy']:.3f} does not beat {report['majority_class_accuracy']:.3f}, "
            f"the rate of always answering the most frequent test category; train longer "
            f"(sketch_classifier.epochs), use the small CNN (sketch_classifier.backbone: small) "
            f"or more sketches per category"
        )
    decision = promote_if_better(
        REGISTERED_CLASSIFIER,
        version,
        "classifier_test_accuracy",
        sketch_classifier_report["accuracy"],
        greater_is_better=True,
        disqualified=disqualified,
    )
    return {"model_uri": f"models:/{REGISTERED_CLASSIFIER}/{version}", **decision.as_dict()}
