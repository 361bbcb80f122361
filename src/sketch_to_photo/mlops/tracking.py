"""What the MLflow UI shows of a run: its name and tags, the data it used, the experiment's kind.

Plain MLflow (no Kedro): the project hook (:class:`sketch_to_photo.hooks.MlflowRunLabelHooks`),
the training nodes and the experiments harness call these.

* **Experiment kind.** The experiment is tagged as model training
  (``mlflow.experimentKind=custom_model_development``, :func:`mark_model_training`). MLflow
  3.17's UI opens an experiment on the view of its sidebar's GenAI / Model training switch
  (remembered per browser, GenAI at first) unless the address names one:
  :func:`runs_list_url` is the address that opens on the training runs, which ``kedro run``
  logs.
* **Run name and tags.** ``cpu_real 64px alarm_clock+ant``: the environment (or the harness'
  variant), the image size and the categories (``122 categories`` when the names would not
  fit); the tags ``env``, ``categories``, ``category_count``, ``image_size`` and
  ``data_source`` let the run list be filtered (``tags.env = 'cpu_real'``).
* **Dataset input.** The pair shards a run read are logged as an MLflow dataset
  (:func:`log_shards_dataset`): a name saying where they came from and which categories, a
  digest of the shards' fingerprints (the same data gives the same digest, whatever folder it
  sits in), the shards' folder as the source and the pairs per split and category as the
  profile, so the run list's Dataset column tells runs on different data apart.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.data.meta_dataset import MetaDataset
from mlflow.data.sources import LocalArtifactDatasetSource

from sketch_to_photo.data.pairs import split_and_category
from sketch_to_photo.datasets import ShardLoaders

logger = logging.getLogger(__name__)

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
MODEL_TRAINING = "custom_model_development"  # the UI's "Model training" (not "GenAI apps & agents")
RUN_NAME_TAG = "mlflow.runName"
NAMED_CATEGORIES = 4  # at most this many names in a run name, else "N categories"
NAMED_CATEGORIES_CHARS = 48  # and only while they fit in this many characters
TAG_CHARS = 5000  # MLflow's limit is 8000 characters per tag value
DEFAULT_ENV = "local"  # Kedro's default run environment (settings.CONFIG_LOADER_ARGS)
ORIGINS = {"synthetic": "synthetic", "sketchy": "sketchy", "local": "sketchy"}


def categories_label(categories: Iterable[str]) -> str:
    """``alarm_clock+ant``; ``122 categories`` when the names are too many or too long."""
    names = [str(c) for c in categories]
    joined = "+".join(names)
    if not names:
        return "no categories"
    if len(names) <= NAMED_CATEGORIES and len(joined) <= NAMED_CATEGORIES_CHARS:
        return joined
    return f"{len(names)} categories"


def env_label(env: str | None) -> str:
    """The environment as a run name shows it: ``default`` for Kedro's default one."""
    return "default" if env in (None, "", DEFAULT_ENV) else str(env)


def run_name(recipe: str, image_size: int | str, categories: Iterable[str]) -> str:
    """``cpu_real 64px alarm_clock+ant``: what ran (environment or variant), its image size
    and its categories."""
    return f"{recipe} {image_size}px {categories_label(categories)}"


def run_tags(
    *, env: str | None, categories: Iterable[str], image_size: int | str, data_source: str | None
) -> dict[str, str]:
    """The tags that let the run list be filtered by what a run is about."""
    names = [str(c) for c in categories]
    return {
        "env": str(env or DEFAULT_ENV),
        "categories": ",".join(names)[:TAG_CHARS],
        "category_count": str(len(names)),
        "image_size": str(image_size),
        "data_source": str(data_source or "unknown"),
    }


def runs_list_url(ui: str, experiment_id: str) -> str:
    """The MLflow UI's runs list of an experiment, in its model-training view.

    MLflow 3.17's UI opens an experiment on the view of the switch at the top of its sidebar
    (GenAI or Model training; remembered per browser, GenAI at first) unless the address says
    ``workflowType``: this address opens the training runs in any browser."""
    return f"{ui.rstrip('/')}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"


def mark_model_training(experiment_id: str, client: MlflowClient | None = None) -> None:
    """Record that this experiment holds model training: MLflow 3's experiment kind tag
    (``mlflow.experimentKind``, which the UI itself writes when a user picks a kind). The
    3.17 UI does not choose its opening view from it: see :func:`runs_list_url`."""
    client = client or MlflowClient()
    experiment = client.get_experiment(experiment_id)
    if experiment.tags.get(EXPERIMENT_KIND_TAG) != MODEL_TRAINING:
        client.set_experiment_tag(experiment_id, EXPERIMENT_KIND_TAG, MODEL_TRAINING)


def label_run(
    run_id: str, name: str, tags: Mapping[str, str], client: MlflowClient | None = None
) -> None:
    """Rename a run, tag it, and mark its experiment as model training."""
    client = client or MlflowClient()
    client.set_tag(run_id, RUN_NAME_TAG, name)
    for key, value in tags.items():
        client.set_tag(run_id, key, value)
    mark_model_training(client.get_run(run_id).info.experiment_id, client)


# ---- the data a run used ---------------------------------------------------------------


class ShardsDataset(MetaDataset):
    """A folder of npz shards as MLflow sees it: no data, a digest and a profile."""

    def __init__(
        self, source: LocalArtifactDatasetSource, name: str, digest: str, profile: dict[str, Any]
    ) -> None:
        self._profile = profile
        super().__init__(source=source, name=name, digest=digest)

    @property
    def profile(self) -> dict[str, Any]:
        return self._profile

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "profile": json.dumps(self._profile)}


def _shard_identity(shard: Any) -> str:
    """What changes with a shard's content: the fingerprint it was computed from (every shard
    the pipelines write has one), else a hash of its arrays (a shard saved without one; its
    file's bytes would not do, as npz files record when they were written)."""
    fingerprint = getattr(shard, "fingerprint", None)
    if fingerprint:
        return f"fingerprint:{fingerprint}"
    digest = hashlib.sha256()
    for key in sorted(shard):
        array = np.ascontiguousarray(shard[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return f"arrays:{digest.hexdigest()}"


def shards_digest(shards: ShardLoaders) -> str:
    """A digest of the shards' names and fingerprints: equal for the same data wherever it
    sits, different when any shard changes, is added or removed."""
    digest = hashlib.sha256()
    for name in sorted(shards):
        digest.update(f"{name}\0{_shard_identity(shards[name]())}\n".encode())
    return digest.hexdigest()[:10]


def _pairs(shard: Any) -> int:
    if hasattr(shard, "length"):
        return int(shard.length("sketch_ids"))  # the header only: nothing is decompressed
    return len(shard["sketch_ids"])


def _folder(shards: ShardLoaders) -> str | None:
    """The folder holding the shards (``.../pairs`` for ``train/ant-00000``), if on disk."""
    for name, load in shards.items():
        path = getattr(load(), "path", None)
        if path is not None:
            return str(Path(path).parents[len(PurePosixPath(name).parts) - 1].resolve())
    return None


def shards_dataset(
    shards: ShardLoaders, manifest: Mapping[str, Any], kind: str = "pairs"
) -> ShardsDataset:
    """The dataset of ``shards`` (``<split>/<category>-NNNNN``) described by the pairs
    manifest: named ``<origin> <kind> <categories>``, e.g. ``sketchy pairs alarm_clock+ant``."""
    per_category: dict[str, dict[str, int]] = {}
    per_split: dict[str, int] = {}
    for name, load in sorted(shards.items()):
        split, category = split_and_category(name)
        pairs = _pairs(load())
        per_category.setdefault(category, {}).setdefault(split, 0)
        per_category[category][split] += pairs
        per_split[split] = per_split.get(split, 0) + pairs
    categories = list(manifest.get("categories") or per_category)
    source = manifest.get("source")
    origin = ORIGINS.get(str(source), str(source or "unknown"))
    folder = _folder(shards)
    profile = {
        "pairs": sum(per_split.values()),
        "pairs_per_split": per_split,
        "pairs_per_category": {c: per_category.get(c, {}) for c in categories},
        "categories": len(categories),
        "shards": len(shards),
        "data_source": source,
        "root": manifest.get("root"),
        "folder": folder,
    }
    return ShardsDataset(
        LocalArtifactDatasetSource(folder or str(manifest.get("root") or "unknown")),
        name=f"{origin} {kind} {categories_label(categories)}",
        digest=shards_digest(shards),
        profile=profile,
    )


def log_shards_dataset(
    shards: ShardLoaders,
    manifest: Mapping[str, Any],
    kind: str = "pairs",
    context: str = "training",
) -> ShardsDataset | None:
    """Log ``shards`` as a dataset input of the active run (none: nothing is logged).

    Logging the same data twice in one run (the generator and the classifier both train on
    it) adds nothing: MLflow keeps one input per name and digest.
    """
    if mlflow.active_run() is None or not shards:
        return None
    try:
        dataset = shards_dataset(shards, manifest, kind)
        mlflow.log_input(dataset, context=context)
    except Exception as exc:  # tracking is not worth failing a training run for
        logger.warning("Could not log the %s as an MLflow dataset: %s", kind, exc)
        return None
    logger.info("Logged dataset %r (digest %s) to the MLflow run", dataset.name, dataset.digest)
    return dataset


def flatten(values: Mapping[str, Any], prefix: str = "", sep: str = ".") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}`` (kedro-mlflow's parameter names)."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten(value, name, sep))
        else:
            flat[name] = value
    return flat
