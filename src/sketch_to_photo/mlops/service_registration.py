"""Register the served model (generator and sketch classifier in ONNX behind one ``predict``,
:mod:`sketch_to_photo.mlops.service`) for a registered generator version, and keep the served
``champion`` on the served model of the champion generator."""

from __future__ import annotations

import logging
from typing import Any

import keras
import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.app.model_card import registry_card
from sketch_to_photo.mlops import generator_registration
from sketch_to_photo.mlops.generator_registration import version_tags
from sketch_to_photo.mlops.model_registry import (
    CHAMPION,
    describe_version,
    follow_champion,
    log_and_register_service,
)
from sketch_to_photo.mlops.service import SERVICE_NAME

logger = logging.getLogger(__name__)


def register_served_model(
    generator: keras.Model,
    sketch_classifier: keras.Model,
    generator_version: int,
    model_card: dict[str, Any],
) -> dict[str, Any]:
    """Register the served model for ``generator_version`` (its ``model_card``): generator and
    sketch classifier in ONNX with the model card (docs/using_the_model.md, "Serve the model"), then point the
    served ``champion`` at the served model of the champion generator, registering that one
    first if an earlier run was stopped before it could (so the two never disagree)."""
    generator_name = generator_registration.REGISTERED_GENERATOR
    version = register_service_for(generator, sketch_classifier, generator_version, model_card)
    client = MlflowClient()
    champion = champion_version(client, generator_name)
    served = None
    if champion is not None:
        served = version if champion == generator_version else service_of(client, champion)
        if served is None:  # e.g. a run killed between registering the generator and this node
            logger.warning(
                "%s v%d is champion but has no served model: registering it now",
                generator_name, champion,
            )  # fmt: skip
            uri = f"models:/{generator_name}/{champion}"
            served = register_service_for(
                mlflow.keras.load_model(uri), sketch_classifier, champion,
                dict(mlflow.models.get_model_info(uri).metadata or {}),
            )  # fmt: skip
        follow_champion(SERVICE_NAME, served, True, client)
    return {
        "model_uri": f"models:/{SERVICE_NAME}/{version}",
        "name": SERVICE_NAME,
        "version": version,
        "generator_version": generator_version,
        "champion": served == version,
        "champion_version": served,
        "champion_generator_version": champion,
    }


def register_service_for(
    generator: keras.Model,
    sketch_classifier: keras.Model,
    generator_version: int,
    model_card: dict[str, Any],
) -> int:
    """The served model of one generator version, tagged both ways."""
    generator_name = generator_registration.REGISTERED_GENERATOR
    categories = list(model_card.get("categories") or [])
    card = {
        "generator_name": generator_name,
        "generator_version": generator_version,
        **model_card,
        "classifier": {
            "image_size": int(sketch_classifier.inputs[0].shape[1]),
            "categories": categories,
        },
    }
    version = log_and_register_service(generator, sketch_classifier, card)
    client = MlflowClient()
    generator_card = registry_card(client, generator_name, generator_version, model_card)
    describe_version(
        SERVICE_NAME,
        version,
        f"Serves `{generator_name}` v{generator_version} and the sketch classifier, "
        f"both exported to ONNX (ONNX Runtime), behind one `predict`: sketch image in, photo "
        f"and category out. The generator's card:\n\n{generator_card.description()}",
        version_tags(model_card),
        client,
    )
    client.set_model_version_tag(
        SERVICE_NAME, str(version), "generator_version", str(generator_version)
    )
    client.set_model_version_tag(
        generator_name, str(generator_version), "service_version", str(version)
    )
    return version


def champion_version(client: MlflowClient, name: str) -> int | None:
    """The version the ``champion`` alias of ``name`` points at, or None."""
    try:
        return int(client.get_model_version_by_alias(name, CHAMPION).version)
    except MlflowException:
        return None


def service_of(client: MlflowClient, generator_version: int) -> int | None:
    """The newest served-model version made for ``generator_version``, if any."""
    found = client.search_model_versions(
        f"name = '{SERVICE_NAME}' and tags.generator_version = '{generator_version}'"
    )
    return max((int(v.version) for v in found), default=None)
