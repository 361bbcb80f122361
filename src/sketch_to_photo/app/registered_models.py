"""The project's MLflow store and its registered models: find the store ``kedro run`` writes to,
list a registered model's versions (champion first) and load one with its metadata.

The demo (``streamlit_app.py``) and the photo command (:mod:`sketch_to_photo.app.photo_command`)
both read the registry through these functions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.mlops.model_registry import CHAMPION
from sketch_to_photo.prediction.photograph import LoadedModel

GENERATOR_NAME = "sketch_to_photo"  # as registered by the evaluation pipeline
CLASSIFIER_NAME = "sketch_category"  # as registered by the sketch_classifier pipeline
MAKE_MODELS_COMMAND = "kedro run"


@dataclass(frozen=True)
class MlflowStore:
    """The tracking and registry URIs of a project, as ``kedro run`` uses them."""

    tracking_uri: str
    registry_uri: str

    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)


def project_mlflow_store(context: Any) -> MlflowStore:
    """Read ``conf/<env>/mlflow.yml`` through a loaded ``KedroContext``'s config loader."""
    server = context.config_loader["mlflow"]["server"]
    tracking = str(server["mlflow_tracking_uri"])
    return MlflowStore(tracking, str(server.get("mlflow_registry_uri") or tracking))


@dataclass(frozen=True)
class ModelVersion:
    """One registered version, as the demo's version picker shows it."""

    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str
    created: str
    tags: tuple[tuple[str, str], ...] = ()  # the version's tags, sorted (hashable)

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"v{self.version}{aliases}, {self.created}"

    @property
    def ineligible_reason(self) -> str | None:
        """Why the registry ruled this version out of ``champion``; None when it did not.

        Set by :func:`sketch_to_photo.mlops.model_registry.promote_if_better` as the tags
        ``champion_eligible`` ("False") and ``champion_ineligible_reason``.
        """
        tags = dict(self.tags)
        if str(tags.get("champion_eligible", "")).strip().lower() != "false":
            return None
        return tags.get("champion_ineligible_reason") or "no reason recorded"


def registered_versions(store: MlflowStore, name: str) -> list[ModelVersion]:
    """All versions of ``name``, champion first, then newest first; [] when none or no store."""
    client = store.client()
    try:
        found = client.search_model_versions(f"name = '{name}'")
        # search_model_versions leaves aliases out; the registered model has them all.
        aliases = client.get_registered_model(name).aliases if found else {}
    except MlflowException:
        return []  # no registry tables yet: nothing was ever registered
    by_version: dict[int, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(int(version), []).append(alias)
    versions = [model_version(v, by_version.get(int(v.version), [])) for v in found]
    return sorted(versions, key=lambda v: (CHAMPION not in v.aliases, -v.version))


def model_version(found: Any, aliases: list[str]) -> ModelVersion:
    """The demo's view of one of MLflow's ``ModelVersion`` entities."""
    return ModelVersion(
        name=str(found.name),
        version=int(found.version),
        aliases=tuple(sorted(aliases)),
        run_id=str(found.run_id),
        created=time.strftime(
            "%Y-%m-%d %H:%M", time.localtime(int(found.creation_timestamp) / 1000)
        ),
        tags=tuple(sorted((str(k), str(t)) for k, t in (found.tags or {}).items())),
    )


def load_registered_model(store: MlflowStore, version: ModelVersion) -> LoadedModel:
    """Load one registered version with the ``mlflow.keras`` flavour, with its metadata."""
    mlflow.set_tracking_uri(store.tracking_uri)
    mlflow.set_registry_uri(store.registry_uri)
    model = mlflow.keras.load_model(version.uri)
    metadata = dict(mlflow.models.get_model_info(version.uri).metadata or {})
    image_size = int(metadata.get("image_size") or model.inputs[0].shape[1])
    categories = [str(c) for c in metadata.get("categories") or []]
    return LoadedModel(version, model, image_size, categories, metadata)
