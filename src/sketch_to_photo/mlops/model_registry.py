"""Log Keras models to MLflow, register them, and move the ``champion`` alias on merit.

Plain MLflow (no Kedro): the training pipelines call these inside kedro-mlflow's run.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.types import Schema, TensorSpec

from sketch_to_photo.mlops.service import (
    CARD,
    CLASSIFIER,
    GENERATOR,
    SERVICE_NAME,
    SketchToPhotoService,
    service_signature,
)
from sketch_to_photo.models.export import export_onnx
from sketch_to_photo.prediction.preprocessing import png_bytes

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).parents[1]  # the sketch_to_photo package, not mlops/

CHAMPION = "champion"


def pinned(*packages: str) -> list[str]:
    """``name==version`` of each installed package: what loading a logged model needs (MLflow's
    own inference of it runs a slow subprocess per model)."""
    return [f"{name}=={package_version(name)}" for name in packages]


def keras_signature(model: keras.Model) -> ModelSignature:
    """Tensor signature of a single-output model, batch dimension -1.

    A single input is unnamed; several (a class-aware generator's sketch and category) are
    named after the model's inputs.
    """

    def spec(tensor: Any, name: str | None = None) -> TensorSpec:
        shape = tuple(-1 if dim is None else int(dim) for dim in tensor.shape)
        return TensorSpec(np.dtype(tensor.dtype), shape, name)

    if len(model.inputs) == 1:
        inputs = Schema([spec(model.inputs[0])])
    else:
        names = [tensor.name.split(":")[0] for tensor in model.inputs]
        inputs = Schema([spec(t, n) for t, n in zip(model.inputs, names, strict=True)])
    return ModelSignature(inputs=inputs, outputs=Schema([spec(model.outputs[0])]))


def log_and_register(
    model: keras.Model,
    *,
    registered_name: str,
    artifact_name: str,
    metadata: dict[str, Any] | None = None,
) -> int:
    """Log ``model`` with the ``mlflow.keras`` flavour in the active run; return its new version."""
    if mlflow.active_run() is None:
        raise RuntimeError(
            "log_and_register needs an active MLflow run (kedro-mlflow opens one per kedro run)."
        )
    info = mlflow.keras.log_model(
        model,
        name=artifact_name,
        signature=keras_signature(model),
        registered_model_name=registered_name,
        metadata=metadata,
        pip_requirements=pinned("tensorflow", "keras", "numpy"),
    )
    version = int(info.registered_model_version)
    logger.info("Registered %s version %d (%s)", registered_name, version, info.model_uri)
    return version


@dataclass(frozen=True)
class ChampionDecision:
    name: str
    version: int
    metric: str
    value: float
    previous_version: int | None
    previous_value: float | None
    promoted: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _champion(client: MlflowClient, name: str) -> Any | None:
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def promote_if_better(
    name: str,
    version: int,
    metric: str,
    value: float,
    *,
    greater_is_better: bool,
    client: MlflowClient | None = None,
    disqualified: str | None = None,
) -> ChampionDecision:
    """Point ``champion`` at ``version`` when it beats the current champion on ``metric``.

    The champion's value is read from the run that logged it. The first version always
    becomes champion; a champion whose run lacks the metric is replaced (logged as such).
    ``disqualified`` says why this version may never be champion (it does not beat a trivial
    baseline): it is then not promoted, the run warns, and the version is tagged
    ``champion_eligible=false`` with the reason.
    """
    client = client or MlflowClient()
    current = _champion(client, name)
    previous_value = None
    client.set_model_version_tag(name, str(version), "champion_eligible", str(not disqualified))
    if disqualified:
        client.set_model_version_tag(name, str(version), "champion_ineligible_reason", disqualified)
        logger.warning(
            "%s v%d is NOT eligible for champion: %s. It stays registered for inspection "
            "(docs/training.md: 'When a model is not made champion').",
            name,
            version,
            disqualified,
        )
        promoted, reason = False, f"not eligible: {disqualified}"
    elif current is None:
        promoted, reason = True, "no champion yet"
    elif int(current.version) == version:
        promoted, reason = True, "already champion"
    else:
        previous_value = client.get_run(current.run_id).data.metrics.get(metric)
        if previous_value is None or math.isnan(previous_value):
            promoted, reason = True, f"champion v{current.version} has no {metric}"
        else:
            better = value > previous_value if greater_is_better else value < previous_value
            comparison = ">" if greater_is_better else "<"
            promoted = better
            reason = f"{metric} {value:.4f} {comparison if better else 'not ' + comparison} {previous_value:.4f} of v{current.version}"
    if promoted:
        client.set_registered_model_alias(name, CHAMPION, str(version))
    decision = ChampionDecision(
        name=name,
        version=version,
        metric=metric,
        value=float(value),
        previous_version=None if current is None else int(current.version),
        previous_value=previous_value,
        promoted=promoted,
        reason=reason,
    )
    logger.info(
        "%s v%d %s champion: %s",
        name,
        version,
        "becomes" if promoted else "does not become",
        reason,
    )
    if mlflow.active_run() is not None:
        mlflow.set_tags(
            {f"{name}.champion_promoted": str(promoted), f"{name}.champion_reason": reason}
        )
    return decision


def describe_version(
    name: str,
    version: int,
    description: str,
    tags: dict[str, Any],
    client: MlflowClient | None = None,
) -> None:
    """Give a registered version its description (the model card, in Markdown: what the
    registry's version page shows) and ``tags`` (its key metrics and data, shown in the
    version list and usable in searches); numbers are written with four significant digits,
    None values left out."""
    client = client or MlflowClient()
    client.update_model_version(name, str(version), description=description)
    for key, value in tags.items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        client.set_model_version_tag(name, str(version), key, text)


def service_example() -> pd.DataFrame:
    """A drawn sketch (a circle and a cross) as the served model's input example."""
    canvas = np.full((96, 96, 3), 255, np.uint8)
    canvas[20:76, 46:50] = 0
    canvas[46:50, 20:76] = 0
    return pd.DataFrame({"image": [png_bytes(canvas)]})


def log_and_register_service(
    generator: keras.Model,
    classifier: keras.Model | None,
    card: dict[str, Any],
    *,
    registered_name: str = SERVICE_NAME,
) -> int:
    """Export ``generator`` (and ``classifier``) to ONNX and register them with ``card`` as the
    served pyfunc model (:class:`sketch_to_photo.mlops.service.SketchToPhotoService`); return its
    version. ``card`` says what the models are: ``generator_name``, ``generator_version``,
    ``image_size``, ``categories`` and, with a classifier, ``classifier`` (its ``image_size``
    and ``categories``)."""
    if mlflow.active_run() is None:
        raise RuntimeError("log_and_register_service needs an active MLflow run.")
    with tempfile.TemporaryDirectory(prefix="sketch_to_photo_service.") as tmp:
        folder = Path(tmp)
        artifacts = {GENERATOR: str(export_onnx(generator, folder / "generator.onnx"))}
        if classifier is not None:
            artifacts[CLASSIFIER] = str(export_onnx(classifier, folder / "classifier.onnx"))
        card_path = folder / "card.json"
        card_path.write_text(json.dumps(card, indent=2), encoding="utf-8")
        artifacts[CARD] = str(card_path)
        info = mlflow.pyfunc.log_model(
            name="service",
            python_model=SketchToPhotoService(),
            artifacts=artifacts,
            signature=service_signature(),
            input_example=service_example(),
            # The project's preprocessing travels with the model (build-docker, other hosts):
            # the whole sketch_to_photo package, so its imports resolve on the other side.
            code_paths=[str(PACKAGE_DIR)],
            registered_model_name=registered_name,
            metadata=card,
            pip_requirements=pinned(
                "mlflow", "onnxruntime", "numpy", "pandas", "pillow", "opencv-python-headless"
            ),
        )
    number = int(info.registered_model_version)
    logger.info("Registered %s version %d (%s)", registered_name, number, info.model_uri)
    return number


def follow_champion(
    name: str, version: int, promoted: bool, client: MlflowClient | None = None
) -> None:
    """Point ``name``'s ``champion`` alias at ``version`` when the model it serves was promoted,
    so the served champion is always the registry's champion generator."""
    if promoted:
        (client or MlflowClient()).set_registered_model_alias(name, CHAMPION, str(version))
