"""The test loop: every system (:mod:`.baselines`) on every test pair, scored per image (pixel
metrics, perceptual distance, the judge's verdict, shape metrics), with the real test photos'
own scores, the outputs kept for the set-level photo-likeness, FID features and the result
grid's rows. Logs a line per test shard and shows a progress bar over its pairs."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from tqdm.auto import tqdm

from sketch_to_photo.data.pairs import first_of_each_photo, split_and_category
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.evaluation.baselines import REAL, Batch, System
from sketch_to_photo.evaluation.feature_models import inception_features
from sketch_to_photo.evaluation.grid import grid_picks
from sketch_to_photo.evaluation.metric_names import METRICS
from sketch_to_photo.evaluation.pixel_metrics import per_image_metrics
from sketch_to_photo.evaluation.report import Collected, Outputs
from sketch_to_photo.evaluation.shape_metrics import chamfer_distance, hull_fill, stroke_recall
from sketch_to_photo.models import PerceptualLoss
from sketch_to_photo.models.faithfulness import judge_predictions
from sketch_to_photo.prediction.preprocessing import prepare_images, to_uint8

logger = logging.getLogger(__name__)


@dataclass
class Scores:
    """What the test loop gathers (see :func:`score_systems`)."""

    collected: Collected  # category -> system -> metric -> per-image values
    grid_rows: list[dict[str, Any]] = field(default_factory=list)
    real_features: list[np.ndarray] = field(default_factory=list)  # InceptionV3, for FID
    fake_features: list[np.ndarray] = field(default_factory=list)
    guess_right: list[float] = field(default_factory=list)  # the sketch classifier's hits
    outputs_u8: Outputs = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))


def shape_values(sketches_u8: np.ndarray, images_u8: np.ndarray) -> dict[str, np.ndarray]:
    """The per-image shape metrics of images against their sketches (both uint8)."""
    return {
        "stroke_recall": stroke_recall(sketches_u8, images_u8),
        "chamfer": chamfer_distance(sketches_u8, images_u8),
        "fill": hull_fill(sketches_u8, images_u8),
    }


def shard_batches(
    shard: Mapping[str, np.ndarray], size: int, batch_size: int, classifier: keras.Model | None
) -> list[Batch]:
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
            Batch(
                prepare_images(sketches_u8[part], size),
                prepare_images(photos_u8[part], size),
                labels[part],
                guesses,
            )
        )
    return batches


def score_systems(
    systems: dict[str, System],
    test_shards: ShardLoaders,
    size: int,
    batch_size: int,
    perceptual: PerceptualLoss,
    judge: keras.Model,
    classifier: keras.Model | None,
    inception: keras.Model | None,
    grid_per_category: int,
) -> Scores:
    """Per-image metrics of every system on every test shard, grid rows, FID features and
    whether the sketch classifier guessed each sketch's category (empty without classifier).

    Every system's outputs (and the real photos, once per photo) are kept in ``outputs_u8`` as
    uint8, for the set-level photo-likeness."""
    scores = Scores(defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    collected, outputs_u8 = scores.collected, scores.outputs_u8
    started, done = time.perf_counter(), 0
    for number, (shard_name, load) in enumerate(test_shards.items(), start=1):
        category = split_and_category(shard_name)[1]
        shard = load()
        first_of_photo = first_of_each_photo(shard["photo_ids"])
        offset = 0
        batches = shard_batches(shard, size, batch_size, classifier)
        bar = tqdm(total=len(first_of_photo), desc=f"evaluate {category}", unit="pair", leave=False)
        for batch in batches:
            real = batch.photos
            sketches_u8, real_u8 = to_uint8(batch.sketches), to_uint8(real)
            hits = judge_predictions(judge, real) == batch.labels
            collected[category][REAL]["faithfulness"].extend(hits.astype(float).tolist())
            for metric, values in shape_values(sketches_u8, real_u8).items():
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
                values.update(shape_values(sketches_u8, generated_u8))
                for metric in METRICS:
                    collected[category][name][metric].extend(np.asarray(values[metric]).tolist())
            if batch.guesses is not None:
                scores.guess_right.extend((batch.guesses == batch.labels).astype(float).tolist())
            if inception is not None:
                scores.real_features.append(inception_features(inception, real))
                scores.fake_features.append(inception_features(inception, outputs["model"]))
            start = len(collected[category]["model"]["l1"]) - len(real)
            batch_ids = shard["photo_ids"][offset - len(real) : offset].tolist()
            for i in grid_picks(scores.grid_rows, category, batch_ids, grid_per_category):
                scores.grid_rows.append(
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
            bar.update(len(real))
        bar.close()
        done += offset
        logger.info(
            "Evaluated test shard %d of %d (%s): %d pairs through %d systems; %d pairs in %.1f s",
            number, len(test_shards), shard_name, offset, len(systems), done,
            time.perf_counter() - started,
        )  # fmt: skip
    return scores
