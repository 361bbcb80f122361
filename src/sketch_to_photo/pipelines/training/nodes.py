"""Nodes of the training pipeline.

The model code is plain Keras (:mod:`sketch_to_photo.models`; the fit itself in
:mod:`sketch_to_photo.models.training`); this node hands it the shards, the configuration and
kedro-mlflow's run (active inside the node). A run killed during training resumes from its
last completed epoch (:mod:`sketch_to_photo.models.backup`).
"""

from __future__ import annotations

from typing import Any

import keras

from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.models.training import train_pix2pix


def train_generator(
    pair_shards: ShardLoaders,
    edge_map_shards: ShardLoaders,
    pairs_manifest: dict[str, Any],
    training: dict[str, Any],
) -> tuple[keras.Model, dict[str, Any]]:
    """Fit pix2pix on the train split (validation split for val_ metrics) as the ``training``
    parameters say; return the generator and the training summary."""
    return train_pix2pix(pair_shards, edge_map_shards, pairs_manifest, training)
