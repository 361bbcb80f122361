"""The training input: the shuffled, augmented train batches (mixed with the edge-map
pseudo-sketches when ``training.edge_maps`` is on), the validation batches split evenly over
the replicas, and the fixed pairs the sample grids show."""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from sketch_to_photo.data.pairs import split_shards
from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.models.data import count_pairs, mixed_pair_dataset, pair_dataset
from sketch_to_photo.models.distribute import TrainingStrategy, validation_batching


def pair_datasets(
    train_shards: ShardLoaders,
    validation_shards: ShardLoaders,
    n_validation: int,
    training: dict[str, Any],
    data: dict[str, int],
    distribution: TrainingStrategy,
    edge_mix: tuple[ShardLoaders, tf.Variable] | None = None,
) -> tuple[tf.data.Dataset, tf.data.Dataset | None]:
    """The shuffled, augmented train batches (mixed with the edge-map pairs at the variable's
    share when ``edge_mix`` is given) and the validation batches (None when too few)."""
    batch_size, replicas = int(training["batch_size"]), distribution.replicas
    options = {
        "batch_size": batch_size,
        "jitter": bool(training["jitter"]),
        "flip": bool(training["flip"]),
        "shuffle_buffer": int(training["shuffle_buffer"]),
        # A last batch smaller than the replica count would leave a replica empty (NaN losses).
        "drop_remainder": replicas > 1,
        **data,
    }
    alignment = str(training.get("pair_alignment", "none"))
    colour = training.get("photo_colour") or {}
    photo_colour = (float(colour.get("brightness", 0.0)), float(colour.get("contrast", 0.0)))
    if edge_mix is None:
        train_data = pair_dataset(
            train_shards,
            training=True,
            pair_alignment=alignment,
            photo_colour=photo_colour,
            **options,
        )
    else:
        train_data = mixed_pair_dataset(
            train_shards,
            *edge_mix,
            real_l1_weight=float(training["edge_maps"]["real_l1_weight"]),
            pair_alignment=alignment,
            photo_colour=photo_colour,
            **options,
        )
    validation_batch, validation_drop = validation_batching(n_validation, batch_size, replicas)
    validation_data = (
        pair_dataset(
            validation_shards,
            training=False,
            batch_size=validation_batch,
            drop_remainder=validation_drop,
            **data,
        )
        if n_validation >= replicas
        else None
    )
    if distribution.num_workers > 1:
        # Every worker reads the same seeded stream and keeps its share of each batch; the
        # shards are read through their loaders in Python, which file-based auto-sharding
        # cannot split.
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        train_data = train_data.with_options(options)
        validation_data = validation_data.with_options(options) if validation_data else None
    return train_data, validation_data


def grid_samples(
    validation_data: tf.data.Dataset | None,
    train_shards: ShardLoaders,
    batch_size: int,
    data: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Four fixed pairs (validation when there is any) shown in the sample grids."""
    inputs, photos = next(
        iter(
            validation_data
            or pair_dataset(train_shards, training=False, batch_size=batch_size, **data)
        )
    )
    sketches, categories = inputs if data["num_classes"] else (inputs, None)
    n = min(4, len(sketches))
    return (
        np.asarray(sketches[:n]),
        np.asarray(photos[:n]),
        None if categories is None else np.asarray(categories[:n]),
    )


def edge_map_mix(
    edge_map_shards: ShardLoaders, training: dict[str, Any]
) -> tuple[ShardLoaders, tf.Variable] | None:
    """The edge-map shards and the real-share variable when ``training.edge_maps`` is on."""
    if not bool(training["edge_maps"]["enabled"]):
        return None
    shards = split_shards(edge_map_shards, "train")
    if not shards or count_pairs(shards) == 0:
        raise ValueError(
            "training.edge_maps.enabled is true but there are no edge-map shards: run "
            "`kedro run --pipelines data_processing` first (it writes edge_map_shards), or set "
            "training.edge_maps.enabled=false"
        )
    # created outside any strategy scope: the input pipeline reads it on the host
    start = float(training["edge_maps"]["real_share_start"])
    return shards, tf.Variable(start, trainable=False, dtype=tf.float32, name="real_share")
