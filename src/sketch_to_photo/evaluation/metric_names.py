"""The metrics' names: which are taken per image, which way is better, and what they are
called in MLflow (``test_*``, ``baseline_*`` and the ``headline/*`` numbers)."""

from __future__ import annotations

import math
import re
from typing import Any

from sketch_to_photo.evaluation.baselines import BASELINES, GUESSED, REAL

SHAPE_METRICS = ("stroke_recall", "chamfer", "fill")  # per image, from the sketch and the output
METRICS = ("l1", "ssim", "psnr", "perceptual", "faithfulness", *SHAPE_METRICS)
PIXEL_METRICS = METRICS[:4]
PHOTO_KID = "photo_kid"  # of a whole set of outputs, against the real train photos
LOWER_IS_BETTER = {
    "l1": True, "ssim": False, "psnr": False, "perceptual": True, "faithfulness": False,
    "stroke_recall": False, "chamfer": True, "fill": False, PHOTO_KID: True,
}  # fmt: skip

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


def metric_key(category: str) -> str:
    """A category as a part of a metric name: ``car_(sedan)`` -> ``car_sedan``."""
    return re.sub(r"[^0-9A-Za-z_\-. ]+", "", category)


def mlflow_metrics(report: dict[str, Any]) -> dict[str, Any]:
    """Every finite number of the report under its MLflow name, at step 0."""
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
        key = metric_key(category)
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
