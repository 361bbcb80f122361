"""The baselines: the blurred-photo probe, the systems, and the train photos read in one pass
(exactly what the mean over the training input's batches and ``unique_photos`` give)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sketch_to_photo.evaluation.baselines import (
    GUESSED,
    Batch,
    blurred,
    mean_training_photo,
    systems,
    train_photos,
)
from sketch_to_photo.models.data import pair_dataset, unique_photos
from tests.evaluation.shards import pair_arrays, saved


def _two_pass(train_shards, size):
    """The mean photo and the distinct photos as evaluation read them before: the training
    input's batches of 64 summed, then ``unique_photos``."""
    total, count = np.zeros((size, size, 3), np.float64), 0
    for _, photos in pair_dataset(train_shards, image_size=size, batch_size=64, training=False):
        total += photos.numpy().sum(axis=0)
        count += len(photos)
    return (total / max(count, 1)).astype(np.float32), unique_photos(train_shards, image_size=size)[
        0
    ]


@pytest.mark.parametrize("size", [16, 12])  # as stored, and resized
def test_train_photos_in_one_pass_equal_the_two_passes_bit_for_bit(tmp_path, size):
    rng = np.random.default_rng(0)
    # 50, 30 and 70 pairs: batches of 64 run across shard boundaries; "b7" is in two shards
    shards = saved(tmp_path / "pairs", {
        "train/ant-00000": pair_arrays(rng, [f"a{i // 3}" for i in range(50)], 0, 16),
        "train/ant-00001": pair_arrays(rng, [f"a{20 + i // 2}" for i in range(30)], 0, 16),
        "train/bee-00000": pair_arrays(rng, ["b7"] * 4 + [f"b{i // 5}" for i in range(66)], 1, 16),
    })  # fmt: skip
    photos = train_photos(shards, size)
    mean, unique = _two_pass(shards, size)
    assert photos.mean.dtype == np.float32 and np.array_equal(photos.mean, mean)
    assert photos.unique.dtype == np.float32 and np.array_equal(photos.unique, unique)
    assert np.array_equal(mean_training_photo(shards, size), mean)


def test_train_photos_need_shards():
    with pytest.raises(ValueError, match="no shards given"):
        train_photos({}, 8)


def test_blur_keeps_the_shape_and_smooths():
    rng = np.random.default_rng(1)
    photos = rng.uniform(-1, 1, (2, 32, 32, 3)).astype(np.float32)
    out = blurred(photos)
    assert out.shape == photos.shape and out.std() < photos.std() / 2
    flat = np.full((1, 32, 32, 3), 0.25, np.float32)
    assert np.allclose(blurred(flat), 0.25)


def test_systems_make_a_photo_per_sketch_and_the_guessed_one_on_request():
    sketches = np.zeros((2, 8, 8, 3), np.float32)
    photos = np.ones((2, 8, 8, 3), np.float32)
    batch = Batch(sketches, photos, np.array([0, 1]), np.array([1, 1]))
    generator = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(3, 1)])
    mean_photo = np.full((8, 8, 3), 0.5, np.float32)
    made = systems(generator, generator, mean_photo, guessed=False)
    assert set(made) == {"model", "untrained", "mean_photo", "sketch_copy", "blurred_photos"}
    for name, system in made.items():
        assert np.asarray(system(batch)).shape == sketches.shape, name
    assert np.all(made["mean_photo"](batch) == 0.5)
    assert made["sketch_copy"](batch) is sketches
    assert GUESSED in systems(generator, generator, mean_photo, guessed=True)
