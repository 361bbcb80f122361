"""sketch_classifier: train-split sketches -> classifier (VGG16 or small CNN) -> test accuracy -> registry.

The category names (in label order) come with the pairs, from ``pairs_manifest``: this pipeline
reads no other pipeline's parameters."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_sketch_classifier, register_sketch_classifier, train_sketch_classifier


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_sketch_classifier,
                ["pair_shards", "edge_map_shards", "params:sketch_classifier", "pairs_manifest"],
                ["sketch_classifier", "sketch_classifier_history"],
                name="train_sketch_classifier",
            ),
            Node(
                evaluate_sketch_classifier,
                ["sketch_classifier", "pair_shards", "params:sketch_classifier", "pairs_manifest"],
                [
                    "sketch_classifier_report",
                    "sketch_classifier_metrics",
                    "sketch_classifier_confusion",
                ],
                name="evaluate_sketch_classifier",
            ),
            Node(
                register_sketch_classifier,
                [
                    "sketch_classifier",
                    "sketch_classifier_report",
                    "pairs_manifest",
                    "sketch_classifier_history",
                ],
                "sketch_classifier_registration",
                name="register_sketch_classifier",
            ),
        ]
    )
