"""training: pair shards -> trained pix2pix generator (logged per epoch to MLflow)."""

from kedro.pipeline import Node, Pipeline

from .nodes import train_generator


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_generator,
                ["pair_shards", "edge_map_shards", "pairs_manifest", "params:training"],
                ["generator", "training_history"],
                name="train_generator",
            )
        ]
    )
