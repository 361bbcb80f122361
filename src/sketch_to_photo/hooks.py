"""Project hooks."""

from __future__ import annotations

import logging
import time
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines as project_pipelines
from kedro.io import CatalogProtocol, DatasetError
from kedro.pipeline import Node, Pipeline

from sketch_to_photo.mlops.tracking import env_label, label_run, run_name, run_tags, runs_list_url
from sketch_to_photo.parameter_models import validate_parameters

logger = logging.getLogger(__name__)


class ParameterValidationHooks:
    """Check every parameter group against its typed model (:mod:`sketch_to_photo.parameter_models`)
    as soon as the context exists: a wrong value or a misspelt key stops ``kedro run`` before
    the catalog is built or any node runs, with one message listing every problem."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        started = time.perf_counter()
        # the merged conf/ and --params, read without context.params, which imports every
        # pipeline (TensorFlow) first to look for typed node inputs
        groups = validate_parameters(context.config_loader["parameters"])
        logger.info(
            "Parameters valid: %d group(s) checked in %.0f ms",
            len(groups), (time.perf_counter() - started) * 1000,
        )  # fmt: skip


class MissingUpstreamOutputError(DatasetError):
    """A run's input that another pipeline makes does not exist yet."""


def _datasets(names: set[str]) -> list[str]:
    """``names`` without the parameters (``parameters``, ``params:...``), sorted."""
    return sorted(n for n in names if n != "parameters" and not n.startswith("params:"))


def upstream_producers(pipeline: Pipeline, registered: dict[str, Pipeline]) -> dict[str, list[str]]:
    """Each dataset input of ``pipeline`` (parameters aside) that a registered pipeline makes,
    with the names of those pipelines (``__default__`` aside: it only sums the others)."""
    producers: dict[str, list[str]] = {}
    for dataset in _datasets(pipeline.inputs()):
        makers = [
            name
            for name, candidate in registered.items()
            if name != "__default__" and dataset in candidate.all_outputs()
        ]
        if makers:
            producers[dataset] = makers
    return producers


def missing_upstream_outputs(
    pipeline: Pipeline, catalog: CatalogProtocol, registered: dict[str, Pipeline]
) -> dict[str, list[str]]:
    """The inputs of ``pipeline`` that another registered pipeline makes and that do not exist
    in ``catalog`` yet, each with the pipelines that make it. Inputs no pipeline makes (the
    user's sketch folder, the registered model) are left to their datasets' own messages."""
    return {
        dataset: makers
        for dataset, makers in upstream_producers(pipeline, registered).items()
        if not catalog.exists(dataset)
    }


def _where(catalog: CatalogProtocol, dataset: str) -> str:
    """`` (data/06_models/generator.keras)``: the dataset's file or folder, when it has one."""
    found = catalog.get(dataset)
    described = found._describe() if found is not None else {}  # noqa: SLF001 - its own summary
    place = described.get("filepath") or described.get("path")
    return f" ({place})" if place else ""


def missing_upstream_message(
    missing: dict[str, list[str]], catalog: CatalogProtocol, env: str | None = None
) -> str:
    """What is missing, which pipeline makes each, and the command that makes them."""
    lines = [
        f"  - {dataset}{_where(catalog, dataset)}: made by the {' or '.join(makers)} pipeline"
        for dataset, makers in missing.items()
    ]
    needed = sorted({makers[0] for makers in missing.values()})  # Kedro orders them itself
    env_option = f" --env {env}" if env and env != "local" else ""
    return (
        f"{len(missing)} input(s) of this run do not exist yet; other pipelines make them:\n"
        + "\n".join(lines)
        + f"\nRun {'it' if len(needed) == 1 else 'them'} first: "
        f"`kedro run --pipelines {','.join(needed)}{env_option}` (which may in turn need an "
        f"earlier pipeline's outputs), or `kedro run{env_option}`, which runs every pipeline "
        "of the default run in order. Nothing was run."
    )


class MissingUpstreamOutputHooks:
    """Stop a run before its first node when an input that another pipeline makes does not
    exist yet (``kedro run --pipelines evaluation`` on a fresh project), naming each dataset
    and the pipeline that makes it, from the registered pipelines' outputs."""

    @hook_impl(tryfirst=True)  # before kedro-mlflow opens an MLflow run for nothing
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        if not _datasets(pipeline.inputs()):
            return  # the default run makes everything itself
        missing = missing_upstream_outputs(pipeline, catalog, _all_registered_pipelines(run_params))
        if missing:
            raise MissingUpstreamOutputError(
                missing_upstream_message(missing, catalog, run_params.get("env"))
            )


def _all_registered_pipelines(run_params: dict[str, Any]) -> dict[str, Pipeline]:
    """Every registered pipeline: ``kedro run --pipelines x`` makes Kedro load only ``x``, so
    the filter is lifted while reading them and put back as the run had it."""
    project_pipelines.set_requested(None)
    try:
        return dict(project_pipelines.items())
    finally:
        project_pipelines.set_requested(run_params.get("pipeline_names") or None)


class MlflowRunLabelHooks:
    """Name kedro-mlflow's run after what it runs and tag it, once the parameters are known:
    ``cpu_real 64px alarm_clock+ant`` (environment, ``training.image_size``,
    ``index.categories``), ``training: ...`` for a run of named pipelines; the tags ``env``,
    ``categories``, ``category_count``, ``image_size`` and ``data_source``. Also marks the
    experiment as model training, so that the MLflow UI opens on its runs
    (:mod:`sketch_to_photo.mlops.tracking`). Does nothing when kedro-mlflow opened no run."""

    def __init__(self) -> None:
        self._env: str | None = None
        self._parameters: dict[str, Any] = {}
        self._ui = "http://127.0.0.1:5000"

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._env = context.env
        self._parameters = dict(context.config_loader["parameters"])  # conf/ and --params
        ui = getattr(getattr(context, "mlflow", None), "ui", None)  # kedro-mlflow's mlflow.yml
        if ui is not None:
            self._ui = f"http://{ui.host}:{ui.port}"

    @hook_impl(trylast=True)  # after kedro-mlflow's, which starts the run
    def before_pipeline_run(self, run_params: dict[str, Any]) -> None:
        run = mlflow.active_run()
        if run is None:
            return
        try:
            name, tags = self.describe(run_params.get("pipeline_names"))
            label_run(run.info.run_id, name, tags)
        except Exception as exc:  # a run name is not worth failing a run for
            logger.warning("Could not name the MLflow run: %s", exc)
            return
        logger.info(
            "MLflow run %r; with the MLflow UI running (docs/demo.md), the runs list is %s",
            name, runs_list_url(self._ui, run.info.experiment_id),
        )  # fmt: skip

    def describe(self, pipelines: list[str] | None = None) -> tuple[str, dict[str, str]]:
        """The run's name and tags, from the environment and the parameters."""
        params = self._parameters
        categories = list(params.get("index", {}).get("categories") or [])
        image_size = params.get("training", {}).get("image_size", "?")
        name = run_name(env_label(self._env), image_size, categories)
        named = [p for p in pipelines or [] if p != "__default__"]
        if named:
            name = f"{'+'.join(named)}: {name}"
        tags = run_tags(
            env=self._env,
            categories=categories,
            image_size=image_size,
            data_source=params.get("acquisition", {}).get("source"),
        )
        return name, tags


class NodeTimingHooks:
    """Log how long each node takes, saving its outputs included, and a summary at the end.

    Saving counts because some outputs (the npz shards) are computed lazily while saved.
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._unsaved: dict[str, set[str]] = {}
        self.durations: dict[str, float] = {}

    @hook_impl
    def before_pipeline_run(self) -> None:
        self._started.clear()
        self._unsaved.clear()
        self.durations.clear()

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started[node.name] = time.perf_counter()
        self._unsaved[node.name] = set(node.outputs)

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        if not node.outputs:
            self._finish(node.name)

    @hook_impl
    def after_dataset_saved(self, dataset_name: str, node: Node) -> None:
        unsaved = self._unsaved.get(node.name)
        if unsaved is None:
            return
        unsaved.discard(dataset_name)
        if not unsaved:
            self._finish(node.name)

    def _finish(self, name: str) -> None:
        self._unsaved.pop(name, None)
        seconds = time.perf_counter() - self._started.pop(name)
        self.durations[name] = seconds
        logger.info("Node %s took %.1f s (outputs saved)", name, seconds)

    @hook_impl
    def after_pipeline_run(self, run_params: dict[str, Any]) -> None:
        if self.durations:
            summary = ", ".join(
                f"{name} {seconds:.1f} s" for name, seconds in self.durations.items()
            )
            logger.info("Node timings: %s; total %.1f s", summary, sum(self.durations.values()))
