"""Project pipelines."""

from __future__ import annotations

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

ON_REQUEST = {"inference"}  # run by name: kedro run --pipelines inference


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects.
    """
    pipelines = find_pipelines(raise_errors=True)
    # `kedro run` builds and registers the model; batch inference uses it, on request.
    pipelines["__default__"] = sum(p for name, p in pipelines.items() if name not in ON_REQUEST)
    return pipelines
