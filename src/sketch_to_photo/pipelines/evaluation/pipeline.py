"""evaluation: generator + test shards -> metrics, result grid, registered model version."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_generator, register_generator


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                evaluate_generator,
                ["generator", "pair_shards", "params:training", "params:evaluation"],
                ["evaluation_report", "evaluation_metrics", "result_grid"],
                name="evaluate_generator",
            ),
            Node(
                register_generator,
                ["generator", "evaluation_report", "params:evaluation", "params:index"],
                "generator_registration",
                name="register_generator",
            ),
        ]
    )
