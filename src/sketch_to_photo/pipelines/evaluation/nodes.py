"""Nodes of the evaluation pipeline.

Metrics on the test split (never trained on) for the trained generator and the baselines it
must beat: the same architecture untrained, a constant "mean training photo" and a copy of the
sketch itself; Gaussian-blurred real photos (what a blob is) are measured too, to show what
each metric makes of a blob. Besides pixel metrics (L1, SSIM, PSNR, VGG16 perceptual distance):

* **category faithfulness**: the accuracy of a photo classifier (the *judge*, trained only on
  the real train-split photos) on the generated photos against their sketches' categories,
  next to its accuracy on the real test photos (the ceiling);
* **shape** (:mod:`sketch_to_photo.shape_metrics`): stroke recall and chamfer distance (do
  the photo's own edges follow the sketch's strokes?), fill (does it paint the outlined
  object?) and photo-likeness (KID on texture, sharpness and colour statistics against the
  real train photos), which a coloured blob or a line drawing cannot pass. The same numbers
  are computed for the real test photos.

FID needs InceptionV3's ImageNet weights; without them it is recorded as skipped, with the
reason.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import keras
import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from PIL import Image

from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.demo import registry_card
from sketch_to_photo.inference import generator_inputs, is_class_aware, prepare_images, to_uint8
from sketch_to_photo.metrics import frechet_distance, per_image_metrics
from sketch_to_photo.models import PerceptualLoss, build_vgg16_features, resolve_vgg_weights
from sketch_to_photo.models.callbacks import caption_grid, render_grid
from sketch_to_photo.models.data import pair_dataset, unique_photos
from sketch_to_photo.models.faithfulness import JudgeSettings, judge_predictions, train_judge
from sketch_to_photo.models.perceptual import CONNECT_TIMEOUT_S, check_reachable, keras_cache_path
from sketch_to_photo.pairs import split_and_category, split_shards
from sketch_to_photo.registry import (
    CHAMPION,
    describe_version,
    follow_champion,
    log_and_register,
    log_and_register_service,
    promote_if_better,
)
from sketch_to_photo.serving import SERVICE_NAME
from sketch_to_photo.shape_metrics import (
    PhotoStatistics,
    chamfer_distance,
    hull_fill,
    stroke_recall,
)
from sketch_to_photo.tracking import categories_label

logger = logging.getLogger(__name__)

REGISTERED_GENERATOR = "sketch_to_photo"
SHAPE_METRICS = ("stroke_recall", "chamfer", "fill")  # per image, from the sketch and the output
METRICS = ("l1", "ssim", "psnr", "perceptual", "faithfulness", *SHAPE_METRICS)
PIXEL_METRICS = METRICS[:4]
PHOTO_KID = "photo_kid"  # of a whole set of outputs, against the real train photos
LOWER_IS_BETTER = {
    "l1": True, "ssim": False, "psnr": False, "perceptual": True, "faithfulness": False,
    "stroke_recall": False, "chamfer": True, "fill": False, PHOTO_KID: True,
}  # fmt: skip
# The baselines each metric must beat (beats_baselines, the champion rule). A copy of the
# sketch has the sketch's strokes as its edges, so it is perfect on stroke recall and chamfer
# by construction; what it cannot pass is photo-likeness (and fill: it paints only strokes).
# L1, SSIM, PSNR and the perceptual distance compare to the photo itself, and a copy of the
# sketch is no contender there either; the blurred real photos are a probe (they are made from
# the answer), measured but not a bar to clear.
MUST_BEAT = {
    **{name: ("untrained", "mean_photo") for name in (*PIXEL_METRICS, "faithfulness")},
    "stroke_recall": ("untrained", "mean_photo"),
    "chamfer": ("untrained", "mean_photo"),
    # fill is not "more is better" (noise and a blob paint everything): its bar is the copy
    "fill": ("sketch_copy",),
    PHOTO_KID: ("untrained", "mean_photo", "sketch_copy"),
}
# A shape model must beat these baselines on these metrics to be made champion.
CHAMPION_SHAPE_METRICS = ("stroke_recall", PHOTO_KID)
GRID_CELL = 128  # smallest cell of the result grid, in pixels
BLUR_SIGMA_AT_64 = 2.0  # Gaussian sigma (pixels at 64 px) of the blurred-photo probe
TIE = 1e-9  # two values of the champion metric closer than this are a tie
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_NOTOP_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/{INCEPTION_NOTOP_FILE}"


# ---- the faithfulness judge ------------------------------------------------------------


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


def _shard_labels(pair_shards: ShardLoaders) -> dict[str, int]:
    """Category name -> label index, read from the shards' ``labels`` arrays."""
    labels: dict[str, int] = {}
    for name, load in sorted(pair_shards.items()):
        shard_labels = load()["labels"]
        if len(shard_labels):
            labels[split_and_category(name)[1]] = int(shard_labels[0])
    return labels


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


def train_faithfulness_judge(
    pair_shards: ShardLoaders, evaluation: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """Train the photo judge on the unique real train-split photos; say which judge it is.

    ``evaluation.faithfulness.ensemble`` judges (seeds ``seed``, ``seed + 1``, ...) are
    averaged into one model: a single from-scratch judge on a few hundred photos swings by
    several points between seeds.
    """
    settings, ensemble, weights_option = judge_settings(evaluation)
    train_shards = split_shards(pair_shards, "train")
    if not train_shards:
        raise ValueError("No training shards: run `kedro run --pipelines data_processing` first.")
    num_classes = max(_shard_labels(pair_shards).values()) + 1
    photos, labels, _ = unique_photos(train_shards, image_size=settings.image_size)
    weights = resolve_vgg_weights(weights_option)
    started = time.perf_counter()
    members = []
    for i in range(ensemble):
        member = train_judge(
            photos, labels, num_classes, JudgeSettings(**{**asdict(settings), "seed": settings.seed + i}), weights
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


# ---- evaluation -------------------------------------------------------------------------


def _mean_training_photo(train_shards: ShardLoaders, size: int) -> np.ndarray:
    total, count = np.zeros((size, size, 3), np.float64), 0
    for _, photos in pair_dataset(train_shards, image_size=size, batch_size=64, training=False):
        total += photos.numpy().sum(axis=0)
        count += len(photos)
    return (total / max(count, 1)).astype(np.float32)


def _inception_features_model(option: str) -> tuple[keras.Model | None, str]:
    """InceptionV3 pooled features for FID, or None and why it cannot be had."""
    if option == "none":
        return None, "disabled (evaluation.fid_weights: none)"
    if option != "auto":
        if not Path(option).is_file():
            return None, f"InceptionV3 weights file {option} not found"
        weights = option
    else:
        cached = keras_cache_path(INCEPTION_NOTOP_FILE)
        if not cached.is_file():
            try:
                check_reachable(INCEPTION_NOTOP_URL, CONNECT_TIMEOUT_S)
            except OSError as error:
                return None, (
                    f"InceptionV3 ImageNet weights are not cached at {cached} and cannot be downloaded "
                    f"({error.__class__.__name__}: {error}); place the file there to compute FID"
                )
        else:
            option = str(cached)
        weights = option if option != "auto" else "imagenet"
    model = keras.applications.InceptionV3(
        include_top=False, weights=weights, pooling="avg", input_shape=(299, 299, 3)
    )
    return model, ""


def _inception_features(model: keras.Model, images: np.ndarray) -> np.ndarray:
    resized = keras.ops.image.resize((images + 1.0) * 127.5, (299, 299))
    return np.asarray(
        model.predict(keras.applications.inception_v3.preprocess_input(resized), verbose=0)
    )


def _summarise(values: dict[str, list[float]]) -> dict[str, float]:
    return {name: float(np.mean(v)) for name, v in values.items() if v}


# Systems that turn test sketches into photos; "real_photos" is the test photos themselves
# (the ceiling: faithfulness and shape metrics) and "model_guessed_category" a class-aware
# model fed the sketch classifier's guess instead of the true category.
BASE_SYSTEMS = ("model", "untrained", "mean_photo", "sketch_copy", "blurred_photos")
SYSTEMS = BASE_SYSTEMS  # the systems every report has
BASELINES = BASE_SYSTEMS[1:]
REAL = "real_photos"
GUESSED = "model_guessed_category"
Collected = dict[str, dict[str, dict[str, list[float]]]]  # category -> system -> metric -> values
Outputs = dict[str, dict[str, list[np.ndarray]]]  # category -> system -> uint8 batches


class _Batch:
    """One batch of a test shard: model-size sketches/photos, labels, classifier guesses."""

    def __init__(self, sketches: np.ndarray, photos: np.ndarray, labels: np.ndarray, guesses: np.ndarray | None) -> None:  # fmt: skip
        self.sketches, self.photos, self.labels, self.guesses = sketches, photos, labels, guesses


System = Callable[[_Batch], np.ndarray]


def blurred(photos: np.ndarray) -> np.ndarray:
    """The blob probe: real photos (N, S, S, 3) in [-1, 1] under a Gaussian blur of
    :data:`BLUR_SIGMA_AT_64` pixels at 64 px (scaled with the size)."""
    sigma = BLUR_SIGMA_AT_64 * photos.shape[1] / 64
    return np.stack([cv2.GaussianBlur(photo, (0, 0), sigma) for photo in photos])


def _shape_values(sketches_u8: np.ndarray, images_u8: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "stroke_recall": stroke_recall(sketches_u8, images_u8),
        "chamfer": chamfer_distance(sketches_u8, images_u8),
        "fill": hull_fill(sketches_u8, images_u8),
    }


def _test_batches(
    shard: Mapping[str, np.ndarray], size: int, batch_size: int, classifier: keras.Model | None
) -> list[_Batch]:
    """A test shard in batches, through the training preprocessing (``prepare_images``).

    With ``classifier``, the shard's uint8 sketches are also prepared at the classifier's own
    input size and its guess (argmax) is attached to each pair.
    """
    sketches_u8, photos_u8 = shard["sketches"], shard["photos"]
    labels = shard["labels"].astype(np.int64)
    batches = []
    for start in range(0, len(labels), batch_size):
        part = slice(start, start + batch_size)
        guesses = None
        if classifier is not None:
            classifier_size = int(classifier.input_shape[1])
            probabilities = classifier.predict_on_batch(
                prepare_images(sketches_u8[part], classifier_size)
            )
            guesses = np.argmax(np.asarray(probabilities), axis=1)
        batches.append(
            _Batch(
                prepare_images(sketches_u8[part], size),
                prepare_images(photos_u8[part], size),
                labels[part],
                guesses,
            )
        )
    return batches


def _collect(
    systems: dict[str, System],
    test_shards: ShardLoaders,
    size: int,
    batch_size: int,
    perceptual: PerceptualLoss,
    judge: keras.Model,
    classifier: keras.Model | None,
    inception: keras.Model | None,
    grid_per_category: int,
    outputs_u8: Outputs,
) -> tuple[Collected, list[dict[str, Any]], tuple[list[np.ndarray], list[np.ndarray]], list[float]]:
    """Per-image metrics of every system on every test shard, grid rows, FID features and
    whether the sketch classifier guessed each sketch's category (empty without classifier).

    Every system's outputs (and the real photos, once per photo) are kept in ``outputs_u8`` as
    uint8, for the set-level photo-likeness."""
    collected: Collected = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    grid_rows: list[dict[str, Any]] = []
    real_features: list[np.ndarray] = []
    fake_features: list[np.ndarray] = []
    guess_right: list[float] = []
    for shard_name, load in test_shards.items():
        category = split_and_category(shard_name)[1]
        shard = load()
        first_of_photo = _first_of_each_photo(shard["photo_ids"])
        offset = 0
        for batch in _test_batches(shard, size, batch_size, classifier):
            real = batch.photos
            sketches_u8, real_u8 = to_uint8(batch.sketches), to_uint8(real)
            hits = judge_predictions(judge, real) == batch.labels
            collected[category][REAL]["faithfulness"].extend(hits.astype(float).tolist())
            for metric, values in _shape_values(sketches_u8, real_u8).items():
                collected[category][REAL][metric].extend(values.tolist())
            # the real photos once per photo: a photo repeated per sketch would bias the KID
            once = first_of_photo[offset : offset + len(real)]
            outputs_u8[category][REAL].append(real_u8[once])
            offset += len(real)
            outputs = {
                name: np.asarray(system(batch), np.float32) for name, system in systems.items()
            }
            judged = {}
            for name, generated in outputs.items():
                generated_u8 = to_uint8(generated)
                outputs_u8[category][name].append(generated_u8)
                values = per_image_metrics(generated, real)
                values["perceptual"] = np.asarray(perceptual.distance(real, generated))
                judged[name] = judge_predictions(judge, generated)
                values["faithfulness"] = (judged[name] == batch.labels).astype(float)
                values.update(_shape_values(sketches_u8, generated_u8))
                for metric in METRICS:
                    collected[category][name][metric].extend(np.asarray(values[metric]).tolist())
            if batch.guesses is not None:
                guess_right.extend((batch.guesses == batch.labels).astype(float).tolist())
            if inception is not None:
                real_features.append(_inception_features(inception, real))
                fake_features.append(_inception_features(inception, outputs["model"]))
            start = len(collected[category]["model"]["l1"]) - len(real)
            batch_ids = shard["photo_ids"][offset - len(real) : offset].tolist()
            for i in _grid_picks(grid_rows, category, batch_ids, grid_per_category):
                grid_rows.append(
                    {
                        "sketch": sketches_u8[i],
                        "generated": to_uint8(outputs["model"][i]),
                        "real": real_u8[i],
                        "category": category,
                        "photo_id": batch_ids[i],
                        "label": int(batch.labels[i]),
                        "judged": int(judged["model"][i]),
                        "guess": None if batch.guesses is None else int(batch.guesses[i]),
                        "stroke_recall": collected[category]["model"]["stroke_recall"][start + i],
                        "fill": collected[category]["model"]["fill"][start + i],
                    }
                )
    return collected, grid_rows, (real_features, fake_features), guess_right


def _grid_picks(
    grid_rows: list[dict[str, Any]], category: str, photo_ids: list[str], quota: int
) -> list[int]:
    """Which pairs of a batch go into the result grid: up to ``quota`` per category, one per
    photo (a photo has several sketches; the grid should show several photos)."""
    shown = {row["photo_id"] for row in grid_rows if row["category"] == category}
    room = quota - len(shown)
    picks: list[int] = []
    for i, photo_id in enumerate(photo_ids):
        if len(picks) >= room:
            break
        if photo_id not in shown:
            shown.add(photo_id)
            picks.append(i)
    return picks


def _first_of_each_photo(photo_ids: np.ndarray) -> np.ndarray:
    """A boolean per pair: True for the first pair of each photo in the shard."""
    seen: set[str] = set()
    return np.array([not (p in seen or seen.add(p)) for p in photo_ids.tolist()], bool)


def _better(report: dict[str, Any], name: str, system: str, baseline: str) -> bool:
    model, other = report["overall"][system][name], report["overall"][baseline][name]
    return model < other if LOWER_IS_BETTER[name] else model > other


def _photo_likeness(
    report: dict[str, Any], outputs_u8: Outputs, reference: PhotoStatistics
) -> None:
    """Add each system's photo KID (and the real test photos') overall and per category."""
    systems = {s for by_system in outputs_u8.values() for s in by_system}
    for system in sorted(systems):
        parts = {c: np.concatenate(by[system]) for c, by in outputs_u8.items() if by[system]}
        everything = np.concatenate(list(parts.values()))
        where = report["real_photos"] if system == REAL else report["overall"][system]
        where[PHOTO_KID] = reference.kid(everything) if len(everything) >= 2 else None
        for category, images in parts.items():
            value = reference.kid(images) if len(images) >= 2 else None
            if system == REAL:
                report["real_photos"].setdefault("per_category_shape", {}).setdefault(category, {})[
                    PHOTO_KID
                ] = value
            else:
                report["per_category"][category][system][PHOTO_KID] = value


def _summarise_nan(values: dict[str, list[float]]) -> dict[str, float]:
    """Means that skip NaN (a sketch without strokes has no shape metric)."""
    return {
        name: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
        for name, v in ((n, np.asarray(v, np.float64)) for n, v in values.items())
        if v.size
    }


def _report(collected: Collected) -> dict[str, Any]:
    """``overall`` and ``per_category`` hold the systems that make photos from the test
    sketches; ``real_photos`` the judge's accuracy and the shape metrics of the test photos
    themselves."""
    systems = sorted({s for by_system in collected.values() for s in by_system} - {REAL})
    report: dict[str, Any] = {"per_category": {}}
    overall: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in systems}
    real: list[float] = []
    real_per_category: dict[str, float] = {}
    for category, by_system in sorted(collected.items()):
        report["per_category"][category] = {s: _summarise_nan(by_system[s]) for s in systems}
        report["per_category"][category]["pairs"] = len(by_system["model"]["l1"])
        for system in systems:
            for name, values in by_system[system].items():
                overall[system][name].extend(values)
        if REAL in by_system and by_system[REAL]["faithfulness"]:
            real.extend(by_system[REAL]["faithfulness"])
            real_per_category[category] = float(np.mean(by_system[REAL]["faithfulness"]))
    report["test_pairs"] = len(overall["model"]["l1"])
    report["overall"] = {s: _summarise_nan(overall[s]) for s in systems}
    if real:
        real_shape: dict[str, list[float]] = defaultdict(list)
        for by_system in collected.values():
            for name in SHAPE_METRICS:
                real_shape[name].extend(by_system[REAL][name])
        report["real_photos"] = {
            "faithfulness": float(np.mean(real)),
            "per_category": real_per_category,
            **_summarise_nan(real_shape),
            "per_category_shape": {
                category: _summarise_nan({n: by_system[REAL][n] for n in SHAPE_METRICS})
                for category, by_system in sorted(collected.items())
            },
        }
    report["beats_baselines"] = _beats_baselines(report)  # again once photo_kid is in
    return report


def _beats_baselines(report: dict[str, Any]) -> dict[str, bool]:
    """Per metric: does the model beat every baseline it must (:data:`MUST_BEAT`)?"""
    overall = report["overall"]
    return {
        name: all(
            _better(report, name, "model", baseline)
            for baseline in baselines
            if baseline in overall and overall[baseline].get(name) is not None
        )
        for name, baselines in MUST_BEAT.items()
        if overall["model"].get(name) is not None
    }


def _faithfulness_section(
    report: dict[str, Any], class_aware: bool, categories: list[str]
) -> dict[str, Any]:
    """The faithfulness scores side by side, overall and per category."""
    overall = report["overall"]
    real_photos = report.get("real_photos", {"faithfulness": None, "per_category": {}})

    def score(system: str, where: dict[str, Any] = overall) -> float | None:
        return where.get(system, {}).get("faithfulness")

    section: dict[str, Any] = {
        "real_photos": real_photos["faithfulness"],
        "generated": score("model"),
        "generated_guessed_category": score(GUESSED) if class_aware else None,
        "untrained": score("untrained"),
        "mean_photo": score("mean_photo"),
        "chance": 1.0 / max(len(categories), 1),
    }
    real, generated = section["real_photos"], section["generated"]
    section["generated_over_real"] = generated / real if real else None
    section["per_category"] = {
        category: {
            "real_photos": real_photos["per_category"].get(category),
            "generated": score("model", values),
            **({"generated_guessed_category": score(GUESSED, values)} if class_aware else {}),
            "untrained": score("untrained", values),
            "mean_photo": score("mean_photo", values),
        }
        for category, values in report["per_category"].items()
    }
    return section


# The headline numbers, each with what it is read against: ``headline/<metric>`` is the
# model's, ``headline/<metric>_<other>`` the real test photos' (the ceiling) or a baseline's
# (the bar; the one that matters most for that metric), so that sorted by name each model
# value comes first with its comparisons after it. Lower is better for chamfer, photo_kid and
# l1 (LOWER_IS_BETTER).
HEADLINE_PREFIX = "headline/"
HEADLINE: dict[str, tuple[str, ...]] = {
    "faithfulness": (REAL, "mean_photo"),
    "stroke_recall": (REAL, "mean_photo"),
    "chamfer": (REAL, "mean_photo"),
    "fill": (REAL, "sketch_copy"),
    PHOTO_KID: (REAL, "sketch_copy", "mean_photo"),
    "l1": ("mean_photo",),
    "ssim": ("mean_photo",),
}


def headline_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of an evaluation report (:data:`HEADLINE`), without the prefix;
    a class-aware model's faithfulness with the classifier's guessed category too. Rounded to
    four decimals, to read in a column (the ``test_*`` and ``baseline_*`` metrics keep every
    digit)."""
    overall, real = report["overall"], report.get("real_photos", {})
    found: dict[str, Any] = {}
    for metric, others in HEADLINE.items():
        if overall["model"].get(metric) is None:
            continue
        found[metric] = overall["model"][metric]
        for other in others:
            where = real if other == REAL else overall.get(other, {})
            found[f"{metric}_{other}"] = where.get(metric)
    found["faithfulness_guessed_category"] = overall.get(GUESSED, {}).get("faithfulness")
    return {
        name: round(float(value), 4)
        for name, value in found.items()
        if value is not None and math.isfinite(value)
    }


def _metric_key(category: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\-. ]+", "", category)  # metric names: car_(sedan) -> car_sedan


def _mlflow_metrics(report: dict[str, Any]) -> dict[str, Any]:
    metrics = {f"test_{name}": value for name, value in report["overall"]["model"].items()}
    for system in BASELINES:
        metrics.update(
            {
                f"baseline_{system}_{name}": value
                for name, value in report["overall"].get(system, {}).items()
            }
        )
    for name in (*SHAPE_METRICS, PHOTO_KID):
        metrics[f"test_{name}_real_photos"] = report.get("real_photos", {}).get(name)
    for category, values in report["per_category"].items():
        key = _metric_key(category)
        metrics.update({f"test_{key}_{name}": value for name, value in values["model"].items()})
        real = report.get("real_photos", {}).get("per_category", {}).get(category)
        if real is not None:
            metrics[f"test_{key}_faithfulness_real_photos"] = real
        if "faithfulness" in values.get(GUESSED, {}):
            metrics[f"test_{key}_faithfulness_guessed_category"] = values[GUESSED]["faithfulness"]
    if "real_photos" in report:
        metrics["test_faithfulness_real_photos"] = report["real_photos"]["faithfulness"]
    if "faithfulness" in report["overall"].get(GUESSED, {}):
        metrics["test_faithfulness_guessed_category"] = report["overall"][GUESSED]["faithfulness"]
    if report.get("sketch_classifier_test_accuracy") is not None:
        metrics["test_sketch_classifier_guess_accuracy"] = report["sketch_classifier_test_accuracy"]
    if report.get("fid") is not None:
        metrics["test_fid"] = report["fid"]
    metrics.update({HEADLINE_PREFIX + name: v for name, v in headline_metrics(report).items()})
    return {
        name: {"value": float(value), "step": 0}
        for name, value in metrics.items()
        if value is not None and math.isfinite(value)
    }


def _kid(values: dict[str, Any]) -> str:
    kid = values.get(PHOTO_KID)
    return "n/a" if kid is None else f"{kid:.2f}"


def _result_grid(
    grid_rows: list[dict[str, Any]], report: dict[str, Any], categories: dict[int, str]
) -> Image.Image:
    """sketch | generated | real, a title line with the headline scores and one caption per row."""
    # cells of at least GRID_CELL pixels (nearest-neighbour): a 64 px shape is visible
    factor = max(1, GRID_CELL // grid_rows[0]["sketch"].shape[0])
    grid = render_grid(
        *(
            np.stack([row[column] for row in grid_rows]).repeat(factor, 1).repeat(factor, 2)
            for column in ("sketch", "generated", "real")
        )
    )
    faith, model = report["faithfulness_table"], report["overall"]["model"]
    guessed = (
        f" (guessed category {faith['generated_guessed_category']:.0%})"
        if faith.get("generated_guessed_category") is not None
        else ""
    )
    real_photos, copy = report.get("real_photos", {}), report["overall"]["sketch_copy"]
    title = [
        f"faithfulness: generated {faith['generated']:.0%}{guessed} | real photos "
        f"{faith['real_photos']:.0%} | mean photo {faith['mean_photo']:.0%}",
        f"stroke recall {model['stroke_recall']:.2f} (real photos "
        f"{real_photos.get('stroke_recall', float('nan')):.2f}) | fill {model['fill']:.2f} "
        f"(real {real_photos.get('fill', float('nan')):.2f}, sketch copy {copy['fill']:.2f})",
        f"photo KID {_kid(model)} (real {_kid(real_photos)}, sketch copy {_kid(copy)}, "
        f"mean photo {_kid(report['overall']['mean_photo'])}) | L1 {model['l1']:.3f}",
    ]
    captions = []
    for row in grid_rows:
        verdict = "recognised" if row["judged"] == row["label"] else (
            f"judged {categories.get(row['judged'], row['judged'])}"
        )  # fmt: skip
        lines = [
            row["category"],
            f"generated: {verdict}",
            f"stroke recall {row['stroke_recall']:.2f}, fill {row['fill']:.2f}",
        ]
        if row["guess"] is not None:
            lines.append(f"guessed: {categories.get(row['guess'], row['guess'])}")
        captions.append(lines)
    return Image.fromarray(
        caption_grid(grid, grid_rows[0]["sketch"].shape[0] * factor, title, captions)
    )


def evaluate_generator(
    generator: keras.Model,
    pair_shards: ShardLoaders,
    faithfulness_judge: keras.Model,
    faithfulness_judge_summary: dict[str, Any],
    sketch_classifier: keras.Model,
    evaluation: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Image.Image]:
    """Metrics overall and per category for the model and the baselines, and a result grid.

    A class-aware generator is evaluated with each sketch's true category (the headline) and
    with the sketch classifier's guess (``faithfulness_guessed_category``).
    """
    test_shards = split_shards(pair_shards, "test")
    if not test_shards:
        raise ValueError("No test shards: run `kedro run --pipelines data_processing` first.")
    labels_by_name = _shard_labels(pair_shards)
    categories = {index: name for name, index in labels_by_name.items()}
    class_aware = is_class_aware(generator)
    size = int(generator.inputs[0].shape[1])
    keras.utils.set_random_seed(int(evaluation["seed"]))
    untrained = keras.models.clone_model(generator)  # same architecture, fresh weights
    mean_photo = _mean_training_photo(split_shards(pair_shards, "train"), size)

    def run(model: keras.Model, sketches: np.ndarray, categories: np.ndarray) -> np.ndarray:
        return np.asarray(model(generator_inputs(model, sketches, categories), training=False))

    systems: dict[str, System] = {
        "model": lambda batch: run(generator, batch.sketches, batch.labels),
        "untrained": lambda batch: run(untrained, batch.sketches, batch.labels),
        "mean_photo": lambda batch: np.broadcast_to(mean_photo, batch.sketches.shape),
        "sketch_copy": lambda batch: batch.sketches,
        "blurred_photos": lambda batch: blurred(batch.photos),
    }
    if class_aware and sketch_classifier is not None:
        systems[GUESSED] = lambda batch: run(generator, batch.sketches, batch.guesses)
    weights = resolve_vgg_weights(str(evaluation["perceptual"]["vgg_weights"]))
    perceptual = PerceptualLoss(
        build_vgg16_features(weights, evaluation["perceptual"]["layers"], size)
    )
    inception, fid_reason = _inception_features_model(str(evaluation["fid_weights"]))
    outputs_u8: Outputs = defaultdict(lambda: defaultdict(list))
    collected, grid_rows, (real_features, fake_features), guess_right = _collect(
        systems,
        test_shards,
        size,
        int(evaluation["batch_size"]),
        perceptual,
        faithfulness_judge,
        sketch_classifier if class_aware else None,
        inception,
        int(evaluation["grid_per_category"]),
        outputs_u8,
    )
    report: dict[str, Any] = {
        "image_size": size,
        "class_aware": class_aware,
        "vgg_weights": weights.source,
        **_report(collected),
    }
    train_photos = unique_photos(split_shards(pair_shards, "train"), image_size=size)[0]
    _photo_likeness(report, outputs_u8, PhotoStatistics.fit(to_uint8(train_photos)))
    report["beats_baselines"] = _beats_baselines(report)
    names = [categories[i] for i in sorted(categories)]
    faith = report["faithfulness_table"] = _faithfulness_section(report, class_aware, names)
    report["faithfulness_judge"] = faithfulness_judge_summary
    # Headline: for a class-aware model the true-category score (its guessed-category score
    # next to it: the classifier's mistakes are not the generator's).
    report["faithfulness"] = faith["generated"]
    report["faithfulness_real_photos"] = faith["real_photos"]
    report["faithfulness_guessed_category"] = faith["generated_guessed_category"]
    report["sketch_classifier_test_accuracy"] = float(np.mean(guess_right)) if guess_right else None
    if inception is not None and sum(len(f) for f in real_features) >= 2:
        report["fid"] = frechet_distance(
            np.concatenate(real_features), np.concatenate(fake_features)
        )
    else:
        report["fid"], report["fid_skipped"] = None, fid_reason or "fewer than two test images"
    logger.info(
        "Test metrics (model): %s; faithfulness %.3f (real photos %.3f, mean photo %.3f%s); "
        "beats baselines: %s",  # shape metrics are in the model's metrics above
        report["overall"]["model"],
        faith["generated"],
        faith["real_photos"],
        faith["mean_photo"],
        ""
        if faith["generated_guessed_category"] is None
        else f", guessed category {faith['generated_guessed_category']:.3f}",
        report["beats_baselines"],
    )
    return report, _mlflow_metrics(report), _result_grid(grid_rows, report, categories)


# ---- registration -----------------------------------------------------------------------


def champion_disqualification(
    report: dict[str, Any],
    metric: str,
    shape_metrics: tuple[str, ...] | list[str] = CHAMPION_SHAPE_METRICS,
) -> str | None:
    """Why the model may never be champion, or None: it must beat the constant mean photo on
    faithfulness and on the champion metric, and its baselines (:data:`MUST_BEAT`: the sketch
    copy included for photo-likeness) on ``shape_metrics`` (``evaluation.
    champion_shape_metrics``, default stroke recall and photo-likeness)."""
    reasons = []
    for name in dict.fromkeys(("faithfulness", metric.removeprefix("test_"))):
        if not _better(report, name, "model", "mean_photo"):
            model = report["overall"]["model"][name]
            baseline = report["overall"]["mean_photo"][name]
            reasons.append(
                f"test_{name} {model:.4f} does not beat the mean photo's {baseline:.4f} "
                f"({'lower' if LOWER_IS_BETTER[name] else 'higher'} is better)"
            )
    for name in shape_metrics:
        if report["overall"]["model"].get(name) is None:
            continue  # a report from before the shape metrics
        for baseline in MUST_BEAT[name]:
            if report["overall"].get(baseline, {}).get(name) is None:
                continue
            if not _better(report, name, "model", baseline):
                reasons.append(
                    f"test_{name} {report['overall']['model'][name]:.4f} does not beat the "
                    f"{baseline.replace('_', ' ')}'s {report['overall'][baseline][name]:.4f} "
                    f"({'lower' if LOWER_IS_BETTER[name] else 'higher'} is better)"
                )
    return "; ".join(reasons) or None


def _deciding_metric(metric: str, tie_break: str | None, report: dict[str, Any]) -> tuple[str, str]:
    """The metric ``promote_if_better`` compares: ``metric``, or ``tie_break`` when the model
    ties the current champion on it. Returns (metric, note)."""
    if not tie_break or tie_break == metric:
        return metric, ""
    try:
        champion = MlflowClient().get_model_version_by_alias(REGISTERED_GENERATOR, CHAMPION)
    except MlflowException:
        return metric, ""
    previous = MlflowClient().get_run(champion.run_id).data.metrics
    mine = report["overall"]["model"][metric.removeprefix("test_")]
    theirs = previous.get(metric)
    if theirs is not None and abs(theirs - mine) <= TIE and tie_break in previous:
        return tie_break, f"{metric} ties champion v{champion.version} at {mine:.4f}"
    return metric, ""


def register_generator(
    generator: keras.Model,
    evaluation_report: dict[str, Any],
    training_history: dict[str, Any],
    evaluation: dict[str, Any],
    pairs_manifest: dict[str, Any],
) -> dict[str, Any]:
    """Log and register the generator with the model card the demo reads; ``champion`` moves
    to it only if it beats the mean photo (faithfulness and the champion metric) and the
    current champion (the champion metric, ties on faithfulness broken by the tie-break)."""
    metric = str(evaluation["champion_metric"])
    tie_break = evaluation.get("champion_tie_break")
    for option, value in (("champion_metric", metric), ("champion_tie_break", tie_break)):
        if value is not None and value.removeprefix("test_") not in METRICS:
            raise ValueError(
                f"evaluation.{option} must be one of {[f'test_{m}' for m in METRICS]}, got {value!r}"
            )
    report = evaluation_report
    overall, faith = report["overall"], report["faithfulness_table"]
    class_aware = bool(report.get("class_aware", is_class_aware(generator)))
    test_metrics = {
        "l1": overall["model"]["l1"],
        "ssim": overall["model"]["ssim"],
        "psnr": overall["model"]["psnr"],
        "faithfulness": faith["generated"],
        "faithfulness_real_photos": faith["real_photos"],
        **({"faithfulness_guessed_category": faith["generated_guessed_category"]} if class_aware else {}),
        "mean_photo_faithfulness": faith["mean_photo"],
        "mean_photo_l1": overall["mean_photo"]["l1"],
    }  # fmt: skip
    real_photos = report.get("real_photos", {})
    for name in (*SHAPE_METRICS, PHOTO_KID):  # reports from before the shape metrics lack them
        if overall["model"].get(name) is not None:
            test_metrics[name] = overall["model"][name]
            test_metrics[f"real_photos_{name}"] = real_photos.get(name)
            test_metrics[f"sketch_copy_{name}"] = overall.get("sketch_copy", {}).get(name)
    metadata = {
        "image_size": int(generator.inputs[0].shape[1]),
        "categories": list(pairs_manifest["categories"]),  # in label order
        "class_aware": class_aware,
        "training": {
            "data_source": str(pairs_manifest["source"]),  # where the pairs came from
            "train_pairs": int(training_history["train_pairs"]),
            "validation_pairs": int(training_history["validation_pairs"]),
            "epochs": int(training_history["epochs"]),
        },
        "test_pairs": int(report["test_pairs"]),
        "test_metrics": {k: None if v is None else float(v) for k, v in test_metrics.items()},
    }
    version = log_and_register(
        generator, registered_name=REGISTERED_GENERATOR, artifact_name="generator", metadata=metadata
    )  # fmt: skip
    card = registry_card(MlflowClient(), REGISTERED_GENERATOR, version, metadata)
    describe_version(REGISTERED_GENERATOR, version, card.description(), version_tags(metadata))
    disqualified = champion_disqualification(
        report, metric, evaluation.get("champion_shape_metrics", CHAMPION_SHAPE_METRICS)
    )
    deciding, tie_note = (
        _deciding_metric(metric, tie_break, report) if not disqualified else (metric, "")
    )
    name = deciding.removeprefix("test_")
    decision = promote_if_better(
        REGISTERED_GENERATOR, version, deciding, overall["model"][name],
        greater_is_better=not LOWER_IS_BETTER[name], disqualified=disqualified,
    )  # fmt: skip
    result = {"model_uri": f"models:/{REGISTERED_GENERATOR}/{version}", **decision.as_dict()}
    result["champion_metric"] = metric
    if tie_note:
        result["tie_break"] = f"{tie_note}: decided by {deciding}"
    result["champion_eligible"] = disqualified is None
    if disqualified:
        result["ineligible_reason"] = disqualified
    result["model_card"] = metadata
    return result


def version_tags(card: dict[str, Any]) -> dict[str, Any]:
    """A registered generator's (or served model's) key metrics and data as version tags,
    named like the run's headline metrics without the prefix, from its model card."""
    metrics = card.get("test_metrics") or {}
    training = card.get("training") or {}
    return {
        "faithfulness": metrics.get("faithfulness"),
        "faithfulness_mean_photo": metrics.get("mean_photo_faithfulness"),
        "faithfulness_real_photos": metrics.get("faithfulness_real_photos"),
        "stroke_recall": metrics.get("stroke_recall"),
        "photo_kid": metrics.get("photo_kid"),
        "photo_kid_sketch_copy": metrics.get("sketch_copy_photo_kid"),
        "l1": metrics.get("l1"),
        "l1_mean_photo": metrics.get("mean_photo_l1"),
        "ssim": metrics.get("ssim"),
        "data_source": training.get("data_source"),
        "categories": categories_label(card.get("categories") or []),
        "image_size": card.get("image_size"),
        "epochs": training.get("epochs"),
        "train_pairs": training.get("train_pairs"),
    }


def register_service(
    generator: keras.Model,
    sketch_classifier: keras.Model,
    generator_registration: dict[str, Any],
) -> dict[str, Any]:
    """Register the served model for the generator version just registered: generator and
    sketch classifier in ONNX with the model card (docs/using_the_model.md, "Serve the model"), then point the
    served ``champion`` at the served model of the champion generator, registering that one
    first if an earlier run was stopped before it could (so the two never disagree)."""
    generator_version = int(generator_registration["version"])
    version = _register_service_for(
        generator, sketch_classifier, generator_version, generator_registration["model_card"]
    )
    client = MlflowClient()
    champion = _champion_version(client, REGISTERED_GENERATOR)
    served = None
    if champion is not None:
        served = version if champion == generator_version else _service_of(client, champion)
        if served is None:  # e.g. a run killed between registering the generator and this node
            logger.warning(
                "%s v%d is champion but has no served model: registering it now",
                REGISTERED_GENERATOR, champion,
            )  # fmt: skip
            uri = f"models:/{REGISTERED_GENERATOR}/{champion}"
            served = _register_service_for(
                mlflow.keras.load_model(uri), sketch_classifier, champion,
                dict(mlflow.models.get_model_info(uri).metadata or {}),
            )  # fmt: skip
        follow_champion(SERVICE_NAME, served, True, client)
    return {
        "model_uri": f"models:/{SERVICE_NAME}/{version}",
        "name": SERVICE_NAME,
        "version": version,
        "generator_version": generator_version,
        "champion": served == version,
        "champion_version": served,
        "champion_generator_version": champion,
    }


def _register_service_for(
    generator: keras.Model,
    sketch_classifier: keras.Model,
    generator_version: int,
    model_card: dict[str, Any],
) -> int:
    """The served model of one generator version, tagged both ways."""
    categories = list(model_card.get("categories") or [])
    card = {
        "generator_name": REGISTERED_GENERATOR,
        "generator_version": generator_version,
        **model_card,
        "classifier": {
            "image_size": int(sketch_classifier.inputs[0].shape[1]),
            "categories": categories,
        },
    }
    version = log_and_register_service(generator, sketch_classifier, card)
    client = MlflowClient()
    generator_card = registry_card(client, REGISTERED_GENERATOR, generator_version, model_card)
    describe_version(
        SERVICE_NAME,
        version,
        f"Serves `{REGISTERED_GENERATOR}` v{generator_version} and the sketch classifier, "
        f"both exported to ONNX (ONNX Runtime), behind one `predict`: sketch image in, photo "
        f"and category out. The generator's card:\n\n{generator_card.description()}",
        version_tags(model_card),
        client,
    )
    client.set_model_version_tag(
        SERVICE_NAME, str(version), "generator_version", str(generator_version)
    )
    client.set_model_version_tag(
        REGISTERED_GENERATOR, str(generator_version), "service_version", str(version)
    )
    return version


def _champion_version(client: MlflowClient, name: str) -> int | None:
    try:
        return int(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def _service_of(client: MlflowClient, generator_version: int) -> int | None:
    """The newest served-model version made for ``generator_version``, if any."""
    found = client.search_model_versions(
        f"name = '{SERVICE_NAME}' and tags.generator_version = '{generator_version}'"
    )
    return max((int(v.version) for v in found), default=None)
