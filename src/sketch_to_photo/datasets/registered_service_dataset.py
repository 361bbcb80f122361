"""The served model (``sketch_to_photo_service``) from the MLflow registry, by alias or version.

Like kedro-mlflow's ``MlflowModelRegistryDataset`` (which takes an alias or a version in two
arguments that exclude each other), but with one ``model`` value (``champion``, ``3``) that a
runtime parameter can set, the version it resolved to recorded on the loaded model, and an
error that says what to do when the registry has no such model. It reads the registry that
kedro-mlflow configured for the run (``conf/<env>/mlflow.yml``).
"""

from __future__ import annotations

from typing import Any

import mlflow.pyfunc
from kedro.io.core import AbstractDataset, DatasetError
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.mlops.service import SERVICE_NAME, SketchToPhotoService


class RegisteredServiceDataset(AbstractDataset[None, SketchToPhotoService]):
    """Loads a registered version of the served model as a :class:`SketchToPhotoService`.

    Example catalog entry::

        service_model:
          type: sketch_to_photo.datasets.RegisteredServiceDataset
          model: ${runtime_params:model, champion}  # an alias or a version number
    """

    def __init__(
        self,
        model_name: str = SERVICE_NAME,
        model: str | int = "champion",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.model_name = model_name
        self.model = str(model).strip()
        if not self.model:
            raise DatasetError("model must be an alias (such as champion) or a version number")
        self.metadata = metadata

    @property
    def _label(self) -> str:
        if self.model.isdigit():
            return f"{self.model_name} v{self.model}"
        return f"{self.model_name}@{self.model}"

    def load(self) -> SketchToPhotoService:
        client = MlflowClient()
        try:
            if self.model.isdigit():
                found = client.get_model_version(self.model_name, self.model)
            else:
                found = client.get_model_version_by_alias(self.model_name, self.model)
            pyfunc = mlflow.pyfunc.load_model(f"models:/{self.model_name}/{found.version}")
        except MlflowException as exc:
            raise DatasetError(
                f"No registered model {self._label} in the MLflow registry at "
                f"{mlflow.get_registry_uri()} ({exc.message}). Run `kedro run` first: it "
                "trains, evaluates and registers the model, and moves `champion` to it when it "
                "beats the baselines. List the versions with `kedro mlflow ui` and pick one with "
                "`--params model=<version or alias>`."
            ) from exc
        service = pyfunc.unwrap_python_model()
        if not isinstance(service, SketchToPhotoService):
            raise DatasetError(
                f"{self._label} is a {type(service).__name__}, not the served sketch-to-photo "
                f"model: model_name should be {SERVICE_NAME}."
            )
        aliases = f" (@{self.model})" if not self.model.isdigit() else ""
        service.registered_as = f"{self.model_name} v{found.version}{aliases}"
        return service

    def save(self, data: None) -> None:
        raise DatasetError(
            f"{type(self).__name__} is read-only: the evaluation pipeline registers the model."
        )

    def _describe(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "model": self.model}
