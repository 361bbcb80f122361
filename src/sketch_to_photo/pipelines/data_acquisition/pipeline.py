"""data_acquisition: one node that puts an extracted Sketchy tree on disk."""

from kedro.pipeline import Node, Pipeline

from .nodes import acquire_sketchy


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [Node(acquire_sketchy, "params:acquisition", "sketchy_raw", name="acquire_sketchy")]
    )
