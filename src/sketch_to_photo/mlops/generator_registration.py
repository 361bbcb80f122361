"""Register an evaluated generator in MLflow with the model card the demo reads (its
description and key-metric tags too), and move ``champion`` to it only under the champion
rule (:mod:`sketch_to_photo.evaluation.champion`). Plain MLflow calls of
:mod:`sketch_to_photo.mlops.model_registry`, inside kedro-mlflow's run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from mlflow import MlflowClient

from sketch_to_photo.app.model_card import registry_card
from sketch_to_photo.evaluation.champion import (
    CHAMPION_SHAPE_METRICS,
    champion_disqualification,
    deciding_metric,
)
from sketch_to_photo.evaluation.metric_names import (
    LOWER_IS_BETTER,
    METRICS,
    PHOTO_KID,
    SHAPE_METRICS,
)
from sketch_to_photo.mlops.model_registry import (
    describe_version,
    log_and_register,
    promote_if_better,
)
from sketch_to_photo.mlops.tracking import categories_label
from sketch_to_photo.prediction.preprocessing import is_class_aware

REGISTERED_GENERATOR = "sketch_to_photo"


def check_champion_options(metric: str, tie_break: str | None) -> None:
    """``evaluation.champion_metric`` and ``champion_tie_break`` name test metrics."""
    for option, value in (("champion_metric", metric), ("champion_tie_break", tie_break)):
        if value is not None and value.removeprefix("test_") not in METRICS:
            raise ValueError(
                f"evaluation.{option} must be one of {[f'test_{m}' for m in METRICS]}, got {value!r}"
            )


def model_card(
    generator: keras.Model,
    report: dict[str, Any],
    training_history: dict[str, Any],
    pairs_manifest: dict[str, Any],
) -> dict[str, Any]:
    """The registered version's metadata: size, categories, training data, test metrics."""
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
    return {
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


def register_evaluated_generator(
    generator: keras.Model,
    report: dict[str, Any],
    training_history: dict[str, Any],
    pairs_manifest: dict[str, Any],
    *,
    champion_metric: str,
    tie_break: str | None = None,
    shape_metrics: Sequence[str] = CHAMPION_SHAPE_METRICS,
) -> dict[str, Any]:
    """Log and register the generator with the model card the demo reads; ``champion`` moves
    to it only if it beats the mean photo (faithfulness and the champion metric) and the
    current champion (the champion metric, ties on faithfulness broken by the tie-break)."""
    metric = champion_metric
    check_champion_options(metric, tie_break)
    metadata = model_card(generator, report, training_history, pairs_manifest)
    version = log_and_register(
        generator, registered_name=REGISTERED_GENERATOR, artifact_name="generator", metadata=metadata
    )  # fmt: skip
    card = registry_card(MlflowClient(), REGISTERED_GENERATOR, version, metadata)
    describe_version(REGISTERED_GENERATOR, version, card.description(), version_tags(metadata))
    disqualified = champion_disqualification(report, metric, shape_metrics)
    deciding, tie_note = (
        deciding_metric(metric, tie_break, report, REGISTERED_GENERATOR)
        if not disqualified
        else (metric, "")
    )
    name = deciding.removeprefix("test_")
    decision = promote_if_better(
        REGISTERED_GENERATOR, version, deciding, report["overall"]["model"][name],
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
