"""Project settings: see https://docs.kedro.org/en/stable/configure/configuration_basics/"""

from pathlib import Path

from kedro.utils import find_kedro_project

from sketch_to_photo.hooks import (
    MissingUpstreamOutputHooks,
    MlflowRunLabelHooks,
    NodeTimingHooks,
    ParameterValidationHooks,
)

HOOKS = (
    ParameterValidationHooks(),
    MissingUpstreamOutputHooks(),
    MlflowRunLabelHooks(),
    NodeTimingHooks(),
)


def project_path() -> str:
    """Absolute path of the Kedro project holding the working directory.

    Used as ``${project_path:}`` in configuration where a value must be absolute (the
    ``sqlite:///`` MLflow URI, which kedro-mlflow passes through unchanged).
    """
    found = find_kedro_project(Path.cwd())
    if found is None:
        raise RuntimeError(
            f"{Path.cwd()} is not inside a Kedro project: run kedro from the project folder."
        )
    return str(Path(found).resolve())


CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"project_path": project_path},
    # An environment (conf/sketchy, conf/cpu_real) overrides parameters key by key; Kedro's
    # default would replace a whole top-level group, dropping the keys it does not repeat.
    "merge_strategy": {"parameters": "soft"},
}
