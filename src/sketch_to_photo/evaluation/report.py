"""The evaluation report, from the per-image scores of every system: means overall and per
category, the real test photos' scores, the set-level photo-likeness, the faithfulness table
and, per metric, whether the model beats the baselines it must (:data:`MUST_BEAT`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from sketch_to_photo.evaluation.baselines import GUESSED, REAL
from sketch_to_photo.evaluation.metric_names import (
    LOWER_IS_BETTER,
    PHOTO_KID,
    PIXEL_METRICS,
    SHAPE_METRICS,
)
from sketch_to_photo.evaluation.photo_likeness import PhotoStatistics

Collected = dict[str, dict[str, dict[str, list[float]]]]  # category -> system -> metric -> values
Outputs = dict[str, dict[str, list[np.ndarray]]]  # category -> system -> uint8 batches

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


def better(report: dict[str, Any], name: str, system: str, baseline: str) -> bool:
    """Is ``system`` better than ``baseline`` on metric ``name``, overall?"""
    model, other = report["overall"][system][name], report["overall"][baseline][name]
    return model < other if LOWER_IS_BETTER[name] else model > other


def summarise_nan(values: dict[str, list[float]]) -> dict[str, float]:
    """Means that skip NaN (a sketch without strokes has no shape metric)."""
    return {
        name: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
        for name, v in ((n, np.asarray(v, np.float64)) for n, v in values.items())
        if v.size
    }


def build_report(collected: Collected) -> dict[str, Any]:
    """``overall`` and ``per_category`` hold the systems that make photos from the test
    sketches; ``real_photos`` the judge's accuracy and the shape metrics of the test photos
    themselves."""
    systems = sorted({s for by_system in collected.values() for s in by_system} - {REAL})
    report: dict[str, Any] = {"per_category": {}}
    overall: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in systems}
    real: list[float] = []
    real_per_category: dict[str, float] = {}
    for category, by_system in sorted(collected.items()):
        report["per_category"][category] = {s: summarise_nan(by_system[s]) for s in systems}
        report["per_category"][category]["pairs"] = len(by_system["model"]["l1"])
        for system in systems:
            for name, values in by_system[system].items():
                overall[system][name].extend(values)
        if REAL in by_system and by_system[REAL]["faithfulness"]:
            real.extend(by_system[REAL]["faithfulness"])
            real_per_category[category] = float(np.mean(by_system[REAL]["faithfulness"]))
    report["test_pairs"] = len(overall["model"]["l1"])
    report["overall"] = {s: summarise_nan(overall[s]) for s in systems}
    if real:
        real_shape: dict[str, list[float]] = defaultdict(list)
        for by_system in collected.values():
            for name in SHAPE_METRICS:
                real_shape[name].extend(by_system[REAL][name])
        report["real_photos"] = {
            "faithfulness": float(np.mean(real)),
            "per_category": real_per_category,
            **summarise_nan(real_shape),
            "per_category_shape": {
                category: summarise_nan({n: by_system[REAL][n] for n in SHAPE_METRICS})
                for category, by_system in sorted(collected.items())
            },
        }
    report["beats_baselines"] = beats_baselines(report)  # again once photo_kid is in
    return report


def beats_baselines(report: dict[str, Any]) -> dict[str, bool]:
    """Per metric: does the model beat every baseline it must (:data:`MUST_BEAT`)?"""
    overall = report["overall"]
    return {
        name: all(
            better(report, name, "model", baseline)
            for baseline in baselines
            if baseline in overall and overall[baseline].get(name) is not None
        )
        for name, baselines in MUST_BEAT.items()
        if overall["model"].get(name) is not None
    }


def add_photo_likeness(
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


def faithfulness_section(
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
