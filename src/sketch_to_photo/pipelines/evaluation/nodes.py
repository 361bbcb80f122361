"""Nodes of the evaluation pipeline: the parameters read, then the work done by
:mod:`sketch_to_photo.evaluation` (judge, test loop, report, grid, champion rule),
:mod:`sketch_to_photo.mlops.generator_registration` and
:mod:`sketch_to_photo.mlops.service_registration`.
"""

from __future__ import annotations

from typing import Any

import keras
from PIL import Image

from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.evaluation.champion import CHAMPION_SHAPE_METRICS
from sketch_to_photo.evaluation.evaluate import evaluate
from sketch_to_photo.evaluation.grid import result_grid
from sketch_to_photo.evaluation.judge import judge_settings, train_judge_ensemble
from sketch_to_photo.evaluation.metric_names import mlflow_metrics
from sketch_to_photo.mlops.generator_registration import register_evaluated_generator
from sketch_to_photo.mlops.service_registration import register_served_model


def train_faithfulness_judge(
    pair_shards: ShardLoaders, evaluation: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """Train the photo judge on the unique real train-split photos; say which judge it is
    (``evaluation.faithfulness``, an ensemble of ``ensemble`` seeds)."""
    settings, ensemble, weights_option = judge_settings(evaluation)
    return train_judge_ensemble(pair_shards, settings, ensemble, weights_option)


def evaluate_generator(
    generator: keras.Model,
    pair_shards: ShardLoaders,
    faithfulness_judge: keras.Model,
    faithfulness_judge_summary: dict[str, Any],
    sketch_classifier: keras.Model,
    evaluation: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], Image.Image]:
    """The report (overall and per category, for the model and the baselines), its MLflow
    metrics and the result grid."""
    result = evaluate(
        generator,
        pair_shards,
        faithfulness_judge,
        faithfulness_judge_summary,
        sketch_classifier,
        seed=int(evaluation["seed"]),
        batch_size=int(evaluation["batch_size"]),
        grid_per_category=int(evaluation["grid_per_category"]),
        vgg_weights=str(evaluation["perceptual"]["vgg_weights"]),
        perceptual_layers=evaluation["perceptual"]["layers"],
        fid_weights=str(evaluation["fid_weights"]),
    )
    report = result.report
    return report, mlflow_metrics(report), result_grid(result.grid_rows, report, result.categories)


def register_generator(
    generator: keras.Model,
    evaluation_report: dict[str, Any],
    training_history: dict[str, Any],
    evaluation: dict[str, Any],
    pairs_manifest: dict[str, Any],
) -> dict[str, Any]:
    """Register the generator with its model card; ``champion`` moves to it only under the
    champion rule (``evaluation.champion_metric``, ``champion_tie_break``,
    ``champion_shape_metrics``)."""
    return register_evaluated_generator(
        generator,
        evaluation_report,
        training_history,
        pairs_manifest,
        champion_metric=str(evaluation["champion_metric"]),
        tie_break=evaluation.get("champion_tie_break"),
        shape_metrics=evaluation.get("champion_shape_metrics", CHAMPION_SHAPE_METRICS),
    )


def register_service(
    generator: keras.Model,
    sketch_classifier: keras.Model,
    generator_registration: dict[str, Any],
) -> dict[str, Any]:
    """Register the served model (ONNX) of the generator version just registered and keep the
    served ``champion`` on the champion generator's."""
    return register_served_model(
        generator,
        sketch_classifier,
        int(generator_registration["version"]),
        generator_registration["model_card"],
    )
