"""The systems the evaluation measures: the model, the baselines it must beat (the same
architecture untrained, the mean training photo, a copy of the sketch) and the blurred-photo
probe, all turning a batch of test sketches into photos; and the train-split photos that the
mean photo and the photo-likeness reference are made of, read in one pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import keras
import numpy as np

from sketch_to_photo.data.pairs import first_of_each_photo
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.prediction.preprocessing import generator_inputs, prepare_images

# Systems that turn test sketches into photos; "real_photos" is the test photos themselves
# (the ceiling: faithfulness and shape metrics) and "model_guessed_category" a class-aware
# model fed the sketch classifier's guess instead of the true category.
BASE_SYSTEMS = ("model", "untrained", "mean_photo", "sketch_copy", "blurred_photos")
SYSTEMS = BASE_SYSTEMS  # the systems every report has
BASELINES = BASE_SYSTEMS[1:]
REAL = "real_photos"
GUESSED = "model_guessed_category"
BLUR_SIGMA_AT_64 = 2.0  # Gaussian sigma (pixels at 64 px) of the blurred-photo probe
MEAN_PHOTO_BATCH = 64  # pairs summed at once into the mean photo


class Batch:
    """One batch of a test shard: model-size sketches/photos, labels, classifier guesses."""

    def __init__(self, sketches: np.ndarray, photos: np.ndarray, labels: np.ndarray, guesses: np.ndarray | None) -> None:  # fmt: skip
        self.sketches, self.photos, self.labels, self.guesses = sketches, photos, labels, guesses


System = Callable[[Batch], np.ndarray]


def blurred(photos: np.ndarray) -> np.ndarray:
    """The blob probe: real photos (N, S, S, 3) in [-1, 1] under a Gaussian blur of
    :data:`BLUR_SIGMA_AT_64` pixels at 64 px (scaled with the size)."""
    sigma = BLUR_SIGMA_AT_64 * photos.shape[1] / 64
    return np.stack([cv2.GaussianBlur(photo, (0, 0), sigma) for photo in photos])


def systems(
    generator: keras.Model, untrained: keras.Model, mean_photo: np.ndarray, guessed: bool
) -> dict[str, System]:
    """The model and its baselines (:data:`BASE_SYSTEMS`); with ``guessed``, also the
    class-aware model fed the sketch classifier's guesses (:data:`GUESSED`)."""

    def run(model: keras.Model, sketches: np.ndarray, categories: np.ndarray) -> np.ndarray:
        return np.asarray(model(generator_inputs(model, sketches, categories), training=False))

    found: dict[str, System] = {
        "model": lambda batch: run(generator, batch.sketches, batch.labels),
        "untrained": lambda batch: run(untrained, batch.sketches, batch.labels),
        "mean_photo": lambda batch: np.broadcast_to(mean_photo, batch.sketches.shape),
        "sketch_copy": lambda batch: batch.sketches,
        "blurred_photos": lambda batch: blurred(batch.photos),
    }
    if guessed:
        found[GUESSED] = lambda batch: run(generator, batch.sketches, batch.guesses)
    return found


@dataclass(frozen=True)
class TrainPhotos:
    """What the evaluation needs of the train split's photos, at the model's size in [-1, 1]."""

    mean: np.ndarray  # (S, S, 3) float32: the mean over every pair (a photo once per sketch)
    unique: np.ndarray  # (N, S, S, 3) float32: each photo once, in shard order


def train_photos(train_shards: ShardLoaders, size: int) -> TrainPhotos:
    """The mean training photo and the distinct train photos, in one pass over the shards.

    The mean is summed in batches of :data:`MEAN_PHOTO_BATCH` pairs running across shard
    boundaries, as :func:`~sketch_to_photo.models.data.pair_dataset` batches them; the distinct
    photos are :func:`~sketch_to_photo.models.data.unique_photos`' (first pair of each photo).
    """
    if not train_shards:
        raise ValueError("no shards given: run the data_processing pipeline first")
    total, count = np.zeros((size, size, 3), np.float64), 0
    pending = np.zeros((0, size, size, 3), np.float32)  # prepared photos not yet summed
    unique: list[np.ndarray] = []
    seen: set[str] = set()
    for load in train_shards.values():
        shard = load()
        photos = shard["photos"]  # read once: each access of a lazy shard decodes it
        first = first_of_each_photo(shard["photo_ids"], seen=seen)
        for start in range(0, len(photos), MEAN_PHOTO_BATCH):
            part = slice(start, start + MEAN_PHOTO_BATCH)
            prepared = prepare_images(photos[part], size)
            if first[part].any():
                unique.append(prepared[first[part]])
            pending = np.concatenate([pending, prepared])
            while len(pending) >= MEAN_PHOTO_BATCH:
                total += pending[:MEAN_PHOTO_BATCH].sum(axis=0)
                count += MEAN_PHOTO_BATCH
                pending = pending[MEAN_PHOTO_BATCH:]
    if len(pending):
        total += pending.sum(axis=0)
        count += len(pending)
    return TrainPhotos(
        mean=(total / max(count, 1)).astype(np.float32),
        unique=np.concatenate(unique) if unique else np.zeros((0, size, size, 3), np.float32),
    )


def mean_training_photo(train_shards: ShardLoaders, size: int) -> np.ndarray:
    """The mean-photo baseline: the mean over every train pair's photo (:func:`train_photos`)."""
    return train_photos(train_shards, size).mean
