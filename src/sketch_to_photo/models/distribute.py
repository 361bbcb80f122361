"""Which ``tf.distribute`` strategy trains the model: one device, mirrored, or multi-worker.

Plain TensorFlow (no Kedro). Build and compile the model inside ``strategy.scope()`` and batch
the input with the *global* batch size: Keras splits each batch over the replicas and
:class:`~sketch_to_photo.models.pix2pix.Pix2Pix` scales its losses so that the summed gradients
are those of the global batch.

- ``auto``: all local GPUs with ``MirroredStrategy`` when there are two or more, otherwise the
  default (single-device) strategy.
- ``mirrored``: ``MirroredStrategy`` over the local GPUs, or over the logical CPU devices when
  there is no GPU (that is for testing the distributed path on a laptop, not for speed: the
  replicas share the same cores).
- ``multi_worker``: ``MultiWorkerMirroredStrategy`` configured by the ``TF_CONFIG``
  environment variable (see docs/scaling.md).

Batches split over the replicas (:func:`check_global_batch`, :func:`validation_batching`), and
the private Keras patch multi-worker training needs (:func:`skip_symbolic_build`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import keras
import tensorflow as tf

STRATEGIES = ("auto", "mirrored", "multi_worker")


class StrategyError(ValueError):
    """The requested strategy cannot be set up; the message says what to change."""


@dataclass(frozen=True)
class TrainingStrategy:
    """The strategy and what the rest of training needs to know about it."""

    strategy: tf.distribute.Strategy
    name: str  # the strategy option that made it: auto, mirrored or multi_worker
    kind: str  # the class actually used, e.g. "MirroredStrategy"
    devices: tuple[str, ...]  # this worker's devices
    worker_index: int = 0
    num_workers: int = 1

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    @property
    def is_chief(self) -> bool:
        """Worker 0 logs, writes samples and checkpoints; the others only compute."""
        return self.worker_index == 0

    def describe(self) -> dict[str, str]:
        """Flat string tags for tracking (MLflow)."""
        return {
            "strategy": self.name,
            "strategy_class": self.kind,
            "replicas": str(self.replicas),
            "workers": str(self.num_workers),
            "worker_index": str(self.worker_index),
            "devices": ",".join(self.devices),
        }


def make_strategy(name: str) -> TrainingStrategy:
    """The strategy for ``training.strategy``; a clear error for an unknown or unusable one."""
    if name not in STRATEGIES:
        raise StrategyError(f"training.strategy must be one of {STRATEGIES}, got {name!r}")
    if name == "multi_worker":  # first: listing devices would start TensorFlow's runtime
        return _multi_worker()
    gpus = tuple(device.name for device in tf.config.list_logical_devices("GPU"))
    if name == "auto":
        if len(gpus) > 1:
            return _mirrored("auto", gpus)
        strategy = tf.distribute.get_strategy()  # the default: no distribution overhead
        device = gpus[0] if gpus else tf.config.list_logical_devices("CPU")[0].name
        return TrainingStrategy(strategy, "auto", type(strategy).__name__, (device,))
    # mirrored: the GPUs, or the logical CPU devices when there is none
    cpus = tuple(device.name for device in tf.config.list_logical_devices("CPU"))
    return _mirrored("mirrored", gpus or cpus)


def split_cpu(replicas: int) -> None:
    """Make ``replicas`` logical CPU devices so that ``mirrored`` can be tried without GPUs.

    Must run before TensorFlow initialises its devices (before any tensor is created).
    """
    if replicas < 1:
        raise StrategyError(f"replicas must be >= 1, got {replicas}")
    (cpu,) = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
        )
    except RuntimeError as exc:
        raise StrategyError(
            "logical CPU devices must be configured before TensorFlow creates any tensor; "
            "call split_cpu at the start of the program"
        ) from exc


def read_tf_config(raw: str | None = None) -> tuple[list[str], int]:
    """The worker addresses and this worker's index from ``TF_CONFIG`` (checked)."""
    raw = os.environ.get("TF_CONFIG") if raw is None else raw
    example = (
        '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
        '"task": {"type": "worker", "index": 0}}'
    )
    if not raw:
        raise StrategyError(
            "training.strategy=multi_worker needs the TF_CONFIG environment variable on every "
            f"machine, e.g. TF_CONFIG='{example}' (index 1 on the second); see docs/scaling.md"
        )
    try:
        config = json.loads(raw)
        workers = config["cluster"]["worker"]
        task_type, index = config["task"]["type"], config["task"]["index"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise StrategyError(
            f"TF_CONFIG is not valid ({exc.__class__.__name__}: {exc}); it must be JSON like "
            f"{example}"
        ) from exc
    if (
        not isinstance(workers, list)
        or not workers
        or not all(isinstance(w, str) and ":" in w for w in workers)
    ):
        raise StrategyError(
            f"TF_CONFIG cluster.worker must be a non-empty list of 'host:port', got {workers!r}"
        )
    if task_type != "worker":
        raise StrategyError(
            f"TF_CONFIG task.type must be 'worker' (worker 0 is the chief), got {task_type!r}"
        )
    if not isinstance(index, int) or not 0 <= index < len(workers):
        raise StrategyError(
            f"TF_CONFIG task.index must be an integer in 0..{len(workers) - 1}, got {index!r}"
        )
    return workers, index


def _mirrored(name: str, devices: tuple[str, ...]) -> TrainingStrategy:
    strategy = tf.distribute.MirroredStrategy(devices=list(devices))
    return TrainingStrategy(strategy, name, type(strategy).__name__, devices)


def _multi_worker() -> TrainingStrategy:
    workers, index = read_tf_config()
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except RuntimeError as exc:  # "Collective ops must be configured at program startup"
        raise StrategyError(
            "MultiWorkerMirroredStrategy must be created before TensorFlow runs anything in the "
            "process: run the training pipeline on its own (`kedro run --pipelines training`) "
            f"on every worker ({exc})"
        ) from exc
    devices = tuple(strategy.extended.worker_devices)
    return TrainingStrategy(
        strategy, "multi_worker", type(strategy).__name__, devices, index, len(workers)
    )


def validation_batching(n_pairs: int, batch_size: int, replicas: int) -> tuple[int, bool]:
    """Batch size and ``drop_remainder`` for validation split evenly over ``replicas``.

    Keras needs the first batch to split into equal parts, and a last batch smaller than the
    replica count would leave a replica empty (a mean over nothing is NaN). Prefer a multiple of
    ``replicas`` that keeps every pair; otherwise drop the few left over.
    """
    if replicas <= 1:
        return batch_size, False
    largest = min(batch_size, n_pairs) // replicas * replicas
    for candidate in range(largest, 0, -replicas):
        remainder = n_pairs % candidate
        if remainder == 0 or remainder >= replicas:
            return candidate, False
    return max(largest, replicas), True


def check_global_batch(batch_size: int, replicas: int, n_train: int) -> None:
    if batch_size % replicas:
        raise ValueError(
            f"training.batch_size ({batch_size}) is the global batch, split evenly over "
            f"{replicas} replicas: make it a multiple of {replicas}"
        )
    if replicas > 1 and n_train < batch_size:
        raise ValueError(
            f"{n_train} training pairs make no full batch of {batch_size}; with {replicas} "
            "replicas partial batches are dropped, so lower training.batch_size"
        )


def skip_symbolic_build(model: keras.Model) -> None:
    """Keras 3 averages a first batch with ``strategy.reduce`` to build a model symbolically,
    which fails on PerReplica values under MultiWorkerMirroredStrategy (keras-team/keras#20585);
    Pix2Pix is built and compiled already, so there is nothing to build. Private Keras API:
    ``tests/models/test_distribute.py`` fails if ``fit`` stops calling it."""
    model._maybe_symbolic_build = lambda *args, **kwargs: None
