"""Project hooks."""

from __future__ import annotations

import logging
import time
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node

from sketch_to_photo.config import validate_parameters

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
