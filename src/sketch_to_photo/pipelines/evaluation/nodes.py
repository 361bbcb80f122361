"""Nodes of the evaluation pipeline.

Metrics on the test split (never trained on) for the trained generator and two trivial
baselines it must beat: the same architecture untrained, and a constant "mean training
photo". FID needs InceptionV3's ImageNet weights; without them it is recorded as skipped,
with the reason.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import keras
import numpy as np
from PIL import Image

from sketch_to_photo.inference import to_uint8
from sketch_to_photo.metrics import frechet_distance, per_image_metrics
from sketch_to_photo.models import (
    PerceptualLoss,
    build_generator,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models.callbacks import render_grid
from sketch_to_photo.models.data import pair_dataset
from sketch_to_photo.models.perceptual import CONNECT_TIMEOUT_S, check_reachable, keras_cache_path
from sketch_to_photo.pairs import shard_paths, split_and_category
from sketch_to_photo.registry import log_and_register, promote_if_better

logger = logging.getLogger(__name__)

REGISTERED_GENERATOR = "sketch_to_photo"
METRICS = ("l1", "ssim", "psnr", "perceptual")
LOWER_IS_BETTER = {"l1": True, "ssim": False, "psnr": False, "perceptual": True}
INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_NOTOP_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/{INCEPTION_NOTOP_FILE}"


def _mean_training_photo(train_files: list[Path], size: int) -> np.ndarray:
    total, count = np.zeros((size, size, 3), np.float64), 0
    for _, photos in pair_dataset(train_files, image_size=size, batch_size=64, training=False):
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


SYSTEMS = ("model", "untrained", "mean_photo")
Collected = dict[str, dict[str, dict[str, list[float]]]]  # category -> system -> metric -> values


def _collect(
    systems: dict[str, Any],
    test_files: list[Path],
    size: int,
    batch_size: int,
    perceptual: PerceptualLoss,
    inception: keras.Model | None,
    grid_per_category: int,
) -> tuple[Collected, list[tuple[np.ndarray, ...]], tuple[list[np.ndarray], list[np.ndarray]]]:
    """Per-image metrics of every system on every test shard, grid rows and FID features."""
    collected: Collected = defaultdict(lambda: {s: defaultdict(list) for s in systems})
    grid_rows: list[tuple[np.ndarray, ...]] = []
    real_features: list[np.ndarray] = []
    fake_features: list[np.ndarray] = []
    for path in test_files:
        category = split_and_category(f"test/{path.stem}")[1]
        for sketches, photos in pair_dataset(
            [path], image_size=size, batch_size=batch_size, training=False
        ):
            real = photos.numpy()
            outputs = {name: np.asarray(system(sketches)) for name, system in systems.items()}
            for name, generated in outputs.items():
                values = per_image_metrics(generated, real)
                values["perceptual"] = np.asarray(perceptual.distance(real, generated))
                for metric in METRICS:
                    collected[category][name][metric].extend(values[metric].tolist())
            if inception is not None:
                real_features.append(_inception_features(inception, real))
                fake_features.append(_inception_features(inception, outputs["model"]))
            shown = sum(1 for row in grid_rows if row[3] == category)
            for i in range(min(grid_per_category - shown, len(real))):
                grid_rows.append(
                    (
                        to_uint8(sketches[i]),
                        to_uint8(outputs["model"][i]),
                        to_uint8(real[i]),
                        category,
                    )
                )
    return collected, grid_rows, (real_features, fake_features)


def _report(collected: Collected) -> dict[str, Any]:
    report: dict[str, Any] = {"per_category": {}}
    overall: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in SYSTEMS}
    for category, by_system in sorted(collected.items()):
        report["per_category"][category] = {s: _summarise(by_system[s]) for s in SYSTEMS}
        report["per_category"][category]["pairs"] = len(by_system["model"]["l1"])
        for system in SYSTEMS:
            for name, values in by_system[system].items():
                overall[system][name].extend(values)
    report["test_pairs"] = len(overall["model"]["l1"])
    report["overall"] = {s: _summarise(overall[s]) for s in SYSTEMS}

    def better(name: str, baseline: str) -> bool:
        model, other = report["overall"]["model"][name], report["overall"][baseline][name]
        return model < other if LOWER_IS_BETTER[name] else model > other

    report["beats_baselines"] = {
        name: better(name, "untrained") and better(name, "mean_photo") for name in METRICS
    }
    return report


def _mlflow_metrics(report: dict[str, Any]) -> dict[str, Any]:
    metrics = {f"test_{name}": value for name, value in report["overall"]["model"].items()}
    for system in ("untrained", "mean_photo"):
        metrics.update(
            {
                f"baseline_{system}_{name}": value
                for name, value in report["overall"][system].items()
            }
        )
    for category, values in report["per_category"].items():
        key = re.sub(r"[^0-9A-Za-z_\-. ]+", "", category)  # metric names: car_(sedan) -> car_sedan
        metrics.update({f"test_{key}_{name}": value for name, value in values["model"].items()})
    if report["fid"] is not None:
        metrics["test_fid"] = report["fid"]
    return {name: {"value": value, "step": 0} for name, value in metrics.items()}


def evaluate_generator(
    generator: keras.Model,
    pair_shards: dict[str, Any],
    training: dict[str, Any],
    evaluation: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Image.Image]:
    """Metrics overall and per category for the model and the baselines, and a result grid."""
    test_files = shard_paths(pair_shards, "test")
    if not test_files:
        raise ValueError("No test shards: run `kedro run --pipelines data_processing` first.")
    size = int(generator.input_shape[1])
    keras.utils.set_random_seed(int(training["seed"]))
    untrained = build_generator(
        size,
        int(training["base_filters"]),
        dropout=float(training["dropout"]),
        normalization=training["normalization"],
    )
    mean_photo = _mean_training_photo(shard_paths(pair_shards, "train"), size)
    systems = {
        "model": lambda x: generator(x, training=False),
        "untrained": lambda x: untrained(x, training=False),
        "mean_photo": lambda x: np.broadcast_to(mean_photo, x.shape),
    }
    weights = resolve_vgg_weights(str(training["perceptual"]["vgg_weights"]))
    perceptual = PerceptualLoss(
        build_vgg16_features(weights, training["perceptual"]["layers"], size)
    )
    inception, fid_reason = _inception_features_model(str(evaluation["fid_weights"]))
    collected, grid_rows, (real_features, fake_features) = _collect(
        systems,
        test_files,
        size,
        int(evaluation["batch_size"]),
        perceptual,
        inception,
        int(evaluation["grid_per_category"]),
    )
    report = {"image_size": size, "vgg_weights": weights.source, **_report(collected)}
    if inception is not None and sum(len(f) for f in real_features) >= 2:
        report["fid"] = frechet_distance(
            np.concatenate(real_features), np.concatenate(fake_features)
        )
    else:
        report["fid"], report["fid_skipped"] = None, fid_reason or "fewer than two test images"
    logger.info(
        "Test metrics (model): %s; beats baselines: %s",
        report["overall"]["model"],
        report["beats_baselines"],
    )
    sketches_u8, generated_u8, photos_u8 = (
        np.stack(column) for column in list(zip(*grid_rows, strict=True))[:3]
    )
    grid = Image.fromarray(render_grid(sketches_u8, generated_u8, photos_u8))
    return report, _mlflow_metrics(report), grid


def register_generator(
    generator: keras.Model,
    evaluation_report: dict[str, Any],
    evaluation: dict[str, Any],
    index: dict[str, Any],
) -> dict[str, Any]:
    """Log and register the generator; ``champion`` moves to it only if it is better."""
    metric = str(evaluation["champion_metric"])
    name = metric.removeprefix("test_")
    if name not in METRICS:
        raise ValueError(
            f"evaluation.champion_metric must be one of {[f'test_{m}' for m in METRICS]}, got {metric!r}"
        )
    version = log_and_register(
        generator,
        registered_name=REGISTERED_GENERATOR,
        artifact_name="generator",
        metadata={
            "image_size": int(generator.input_shape[1]),
            "categories": list(index["categories"]),
        },
    )
    decision = promote_if_better(
        REGISTERED_GENERATOR, version, metric, evaluation_report["overall"]["model"][name],
        greater_is_better=not LOWER_IS_BETTER[name],
    )  # fmt: skip
    return {"model_uri": f"models:/{REGISTERED_GENERATOR}/{version}", **decision.as_dict()}
