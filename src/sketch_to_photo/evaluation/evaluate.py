"""The whole evaluation of a generator on the test split: the baselines made, every system
scored (:mod:`.scoring`), the report assembled (:mod:`.report`) with photo-likeness,
faithfulness table and FID, and the grid's rows and category names to draw it with."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from sketch_to_photo.data.pairs import shard_labels, split_shards
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.evaluation import baselines
from sketch_to_photo.evaluation.feature_models import inception_features_model, perceptual_distance
from sketch_to_photo.evaluation.photo_likeness import PhotoStatistics
from sketch_to_photo.evaluation.pixel_metrics import frechet_distance
from sketch_to_photo.evaluation.report import (
    add_photo_likeness,
    beats_baselines,
    build_report,
    faithfulness_section,
)
from sketch_to_photo.evaluation.scoring import score_systems
from sketch_to_photo.prediction.preprocessing import is_class_aware, to_uint8

logger = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """The report, and what the result grid is drawn from."""

    report: dict[str, Any]
    grid_rows: list[dict[str, Any]]
    categories: dict[int, str]  # label -> category name


def evaluate(
    generator: keras.Model,
    pair_shards: ShardLoaders,
    judge: keras.Model,
    judge_summary: dict[str, Any],
    sketch_classifier: keras.Model | None,
    *,
    seed: int,
    batch_size: int,
    grid_per_category: int,
    vgg_weights: str,
    perceptual_layers: list[str],
    fid_weights: str,
) -> Evaluation:
    """Metrics overall and per category for the model and the baselines.

    A class-aware generator is evaluated with each sketch's true category (the headline) and
    with the sketch classifier's guess (``faithfulness_guessed_category``). ``seed`` seeds
    the untrained baseline's weights.
    """
    test_shards = split_shards(pair_shards, "test")
    if not test_shards:
        raise ValueError("No test shards: run `kedro run --pipelines data_processing` first.")
    categories = {index: name for name, index in shard_labels(pair_shards).items()}
    class_aware = is_class_aware(generator)
    size = int(generator.inputs[0].shape[1])
    keras.utils.set_random_seed(seed)
    untrained = keras.models.clone_model(generator)  # same architecture, fresh weights
    train = baselines.train_photos(split_shards(pair_shards, "train"), size)
    systems = baselines.systems(
        generator, untrained, train.mean, class_aware and sketch_classifier is not None
    )
    perceptual, weights = perceptual_distance(vgg_weights, perceptual_layers, size)
    inception, fid_reason = inception_features_model(fid_weights)
    scores = score_systems(
        systems,
        test_shards,
        size,
        batch_size,
        perceptual,
        judge,
        sketch_classifier if class_aware else None,
        inception,
        grid_per_category,
    )
    report: dict[str, Any] = {
        "image_size": size,
        "class_aware": class_aware,
        "vgg_weights": weights.source,
        **build_report(scores.collected),
    }
    add_photo_likeness(report, scores.outputs_u8, PhotoStatistics.fit(to_uint8(train.unique)))
    report["beats_baselines"] = beats_baselines(report)
    names = [categories[i] for i in sorted(categories)]
    faith = report["faithfulness_table"] = faithfulness_section(report, class_aware, names)
    report["faithfulness_judge"] = judge_summary
    # Headline: for a class-aware model the true-category score (its guessed-category score
    # next to it: the classifier's mistakes are not the generator's).
    report["faithfulness"] = faith["generated"]
    report["faithfulness_real_photos"] = faith["real_photos"]
    report["faithfulness_guessed_category"] = faith["generated_guessed_category"]
    guess_right = scores.guess_right
    report["sketch_classifier_test_accuracy"] = float(np.mean(guess_right)) if guess_right else None
    if inception is not None and sum(len(f) for f in scores.real_features) >= 2:
        report["fid"] = frechet_distance(
            np.concatenate(scores.real_features), np.concatenate(scores.fake_features)
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
    return Evaluation(report, scores.grid_rows, categories)
