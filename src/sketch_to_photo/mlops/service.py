"""The served model: sketch image bytes in, photo PNG bytes and the category used out.

Registered as ``sketch_to_photo_service`` beside each ``sketch_to_photo`` version (see
:func:`sketch_to_photo.mlops.model_registry.log_and_register_service`): an MLflow pyfunc holding the
generator and the sketch classifier exported to ONNX and the model card, so that
``mlflow models serve -m models:/sketch_to_photo_service@champion`` serves it as it is. It
runs the project's own preprocessing
(:func:`sketch_to_photo.prediction.preprocessing.preprocess_sketch`) and needs ONNX Runtime, not
TensorFlow. The batch inference pipeline calls the same object.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models.signature import ModelSignature
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.types import ColSpec, DataType, Schema

from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.photograph import (
    GUESSED,
    CategoryNeeded,
    LoadedModel,
    Result,
    sketch_to_photo,
)
from sketch_to_photo.prediction.preprocessing import SketchInputError, png_bytes

SERVICE_NAME = "sketch_to_photo_service"
GENERATOR, CLASSIFIER, CARD = "generator_onnx", "classifier_onnx", "card"


def service_signature() -> ModelSignature:
    """``image`` (PNG/JPEG bytes; base64 in JSON) and an optional ``category`` in; the photo
    as PNG bytes (base64 in JSON), the category used, how it was chosen and the classifier's
    confidence out."""
    inputs = Schema(
        [ColSpec(DataType.binary, "image"), ColSpec(DataType.string, "category", required=False)]
    )
    outputs = Schema(
        [
            ColSpec(DataType.binary, "photo"),
            ColSpec(DataType.string, "category", required=False),
            ColSpec(DataType.string, "category_source", required=False),
            ColSpec(DataType.double, "confidence", required=False),
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


class SketchToPhotoService(mlflow.pyfunc.PythonModel):
    """The generator (and the sketch classifier, when bundled) behind one ``predict``."""

    card: dict[str, Any]
    generator: LoadedModel
    classifier: LoadedModel | None
    registered_as: str | None = None  # "sketch_to_photo_service v3", set by whoever loads it

    def load_context(self, context: Any) -> None:
        self.load_artifacts(context.artifacts)

    def load_artifacts(self, artifacts: dict[str, str]) -> None:
        card = json.loads(Path(artifacts[CARD]).read_text(encoding="utf-8"))
        self.card = card
        self.generator = LoadedModel(
            f"{card['generator_name']} v{card['generator_version']}",
            OnnxModel(artifacts[GENERATOR]),
            int(card["image_size"]),
            [str(c) for c in card["categories"]],
            card,
        )
        classifier = card.get("classifier")
        self.classifier = (
            LoadedModel(
                "sketch classifier",
                OnnxModel(artifacts[CLASSIFIER]),
                int(classifier["image_size"]),
                [str(c) for c in classifier["categories"]],
            )
            if classifier and artifacts.get(CLASSIFIER)
            else None
        )
        self.generator.warm_up()  # the first request should not pay for session set-up

    def photograph(self, image: bytes, category: str | None = None) -> Result:
        """One sketch (file bytes) -> its photo. Raises :class:`SketchInputError` for input that
        is not a usable sketch, :class:`CategoryNeeded` when a class-aware generator gets no
        category and cannot guess one, ``ValueError`` for a category the model does not know."""
        return sketch_to_photo(image, self.generator, self.classifier, category)

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        if "image" not in model_input:
            raise _bad_request("the input has no 'image' column: send the sketch as 'image'.")
        categories = model_input["category"] if "category" in model_input else None
        rows = []
        for i, image in enumerate(model_input["image"]):
            category = _text(categories.iloc[i]) if categories is not None else None
            where = f"row {i}: " if len(model_input) > 1 else ""
            if not isinstance(image, bytes | bytearray):
                raise _bad_request(
                    f"{where}'image' must be the image file's bytes (base64 in JSON), "
                    f"got {type(image).__name__}."
                )
            try:
                result = self.photograph(bytes(image), category)
            except (SketchInputError, CategoryNeeded, ValueError) as exc:
                raise _bad_request(f"{where}{exc}") from exc
            confidence = (
                result.probabilities.get(result.category or result.guess or "")
                if result.probabilities
                else None
            )
            source = result.category_source or (GUESSED if result.guess else None)
            if category is not None and not self.generator.class_aware:
                source = (
                    f"{source or 'none'}; this model draws without a category ({category!r} unused)"
                )
            rows.append(
                {
                    "photo": png_bytes(result.photo),
                    "category": result.category or result.guess,
                    "category_source": source,
                    "confidence": confidence,
                }
            )
        return pd.DataFrame(rows, columns=["photo", "category", "category_source", "confidence"])


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _bad_request(message: str) -> MlflowException:
    """An error the scoring server answers with HTTP 400 and this message."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)
