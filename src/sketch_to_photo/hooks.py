"""Project hooks."""

from __future__ import annotations

import logging
import time
from typing import Any

import mlflow
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from sketch_to_photo.config import validate_parameters
from sketch_to_photo.tracking import env_label, label_run, run_name, run_tags, runs_list_url

logger = logging.getLogger(__name__)


class ParameterValidationHooks:
    """Check every parameter group against its typed model (:mod:`sketch_to_photo.config`)
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


class MlflowRunLabelHooks:
    """Name kedro-mlflow's run after what it runs and tag it, once the parameters are known:
    ``cpu_real 64px alarm_clock+ant`` (environment, ``training.image_size``,
    ``index.categories``), ``training: ...`` for a run of named pipelines; the tags ``env``,
    ``categories``, ``category_count``, ``image_size`` and ``data_source``. Also marks the
    experiment as model training, so that the MLflow UI opens on its runs
    (:mod:`sketch_to_photo.tracking`). Does nothing when kedro-mlflow opened no run."""

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
