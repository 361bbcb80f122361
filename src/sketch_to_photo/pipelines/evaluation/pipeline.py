"""evaluation: generator + test shards -> metrics, faithfulness, result grid, registered model."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    evaluate_generator,
    register_generator,
    register_service,
    train_faithfulness_judge,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                train_faithfulness_judge,
                ["pair_shards", "params:evaluation"],
                ["faithfulness_judge", "faithfulness_judge_summary"],
                name="train_faithfulness_judge",
            ),
            Node(
                evaluate_generator,
                [
                    "generator",
                    "pair_shards",
                    "faithfulness_judge",
                    "faithfulness_judge_summary",
                    "sketch_classifier",
                    "params:evaluation",
                ],
                ["evaluation_report", "evaluation_metrics", "result_grid"],
                name="evaluate_generator",
            ),
            Node(
                register_generator,
                [
                    "generator",
                    "evaluation_report",
                    "training_history",
                    "params:evaluation",
                    "pairs_manifest",
                ],
                "generator_registration",
                name="register_generator",
            ),
            Node(
                register_service,
                ["generator", "sketch_classifier", "generator_registration"],
                "service_registration",
                name="register_service",
            ),
        ]
    )
