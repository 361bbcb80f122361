"""The training input: train and validation batches, the edge-map mix, the sample-grid pairs."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.models.distribute import TrainingStrategy
from sketch_to_photo.models.training_inputs import edge_map_mix, grid_samples, pair_datasets

SIZE = 16
TRAINING = {
    "batch_size": 4, "jitter": False, "flip": False, "shuffle_buffer": 8,
    "edge_maps": {"enabled": True, "real_share_start": 0.2, "real_share_end": 0.8},
}  # fmt: skip


def _shards(folder, **counts):
    rng = np.random.default_rng(0)
    arrays = {
        name: {
            "sketches": rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8),
            "photos": rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8),
            "sketch_ids": np.array([f"p{i}-1" for i in range(n)]),
            "labels": np.zeros(n, np.int16),
        }
        for name, n in counts.items()
    }
    NpzShardsDataset(path=str(folder)).save(arrays)
    return NpzShardsDataset(path=str(folder)).load()


def test_no_edge_map_mix_unless_enabled_and_a_clear_error_without_edge_maps(tmp_path):
    assert edge_map_mix({}, {**TRAINING, "edge_maps": {"enabled": False}}) is None
    with pytest.raises(
        ValueError, match="no edge-map shards: run `kedro run --pipelines data_processing`"
    ):
        edge_map_mix({}, TRAINING)
    shards, share = edge_map_mix(_shards(tmp_path / "edges", **{"train/ant-00000": 3}), TRAINING)
    assert list(shards) == ["train/ant-00000"] and float(share.numpy()) == pytest.approx(0.2)


def test_train_and_validation_batches_and_four_grid_pairs(tmp_path):
    train = _shards(tmp_path / "train", **{"train/ant-00000": 10})
    validation = _shards(tmp_path / "validation", **{"validation/ant-00000": 5})
    single = TrainingStrategy(
        tf.distribute.get_strategy(), "auto", "_DefaultDistributionStrategy", ("cpu",)
    )
    data = {"image_size": SIZE, "seed": 0, "num_classes": 0}
    train_data, validation_data = pair_datasets(train, validation, 5, TRAINING, data, single)
    assert [len(s) for s, _ in train_data] == [4, 4, 2]
    assert [len(s) for s, _ in validation_data] == [4, 1]
    sketches, photos, categories = grid_samples(validation_data, train, 4, data)
    assert sketches.shape == photos.shape == (4, SIZE, SIZE, 3) and categories is None
    assert pair_datasets(train, {}, 0, TRAINING, data, single)[1] is None  # no validation pairs


def test_pair_alignment_changes_the_train_photos_only(tmp_path):
    sketch = np.full((2, SIZE, SIZE, 3), 255, np.uint8)
    sketch[:, 2:14, 2] = sketch[:, 2:14, 13] = 0  # strokes spanning 2..14 both ways
    sketch[:, 2, 2:14] = sketch[:, 13, 2:14] = 0
    photo = np.full_like(sketch, 255)
    photo[:, 0:4, 0:4] = 0  # a 4 px object in the corner
    arrays = {
        "sketches": sketch, "photos": photo, "masks": (photo[..., 0] == 0).astype(np.uint8),
        "sketch_ids": np.array(["p0-1", "p1-1"]), "labels": np.zeros(2, np.int16),
        "segmentation_fallback": np.zeros(2, bool),
    }  # fmt: skip
    for split in ("train", "validation"):
        NpzShardsDataset(path=str(tmp_path / split)).save({f"{split}/ant-00000": arrays})
    train = NpzShardsDataset(path=str(tmp_path / "train")).load()
    validation = NpzShardsDataset(path=str(tmp_path / "validation")).load()
    single = TrainingStrategy(
        tf.distribute.get_strategy(), "auto", "_DefaultDistributionStrategy", ("cpu",)
    )
    data = {"image_size": SIZE, "seed": 0, "num_classes": 0}
    training = {**TRAINING, "edge_maps": {"enabled": False}, "pair_alignment": "photo_to_sketch"}
    train_data, validation_data = pair_datasets(train, validation, 2, training, data, single)
    dark = [(next(iter(stream))[1].numpy() < 0).mean() for stream in (train_data, validation_data)]
    assert dark[0] > 0.4 and dark[1] == pytest.approx(16 / 256)  # fitted to 12x12; as stored
