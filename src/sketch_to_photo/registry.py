"""Log Keras models to MLflow, register them, and move the ``champion`` alias on merit.

Plain MLflow (no Kedro): the training pipelines call these inside kedro-mlflow's run.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import keras
import mlflow
import numpy as np
import tensorflow as tf
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.types import Schema, TensorSpec

logger = logging.getLogger(__name__)

CHAMPION = "champion"


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
        # What loading the model needs; inferring it runs a slow subprocess per model.
        pip_requirements=[
            f"tensorflow=={tf.__version__}",
            f"keras=={keras.__version__}",
            f"numpy=={np.__version__}",
        ],
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
            "(README: 'When a model is not made champion').",
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
