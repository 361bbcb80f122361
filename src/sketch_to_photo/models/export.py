"""Export a trained Keras model to ONNX for ONNX Runtime (the served model and batch inference).

Models trained under ``mixed_bfloat16`` keep float32 weights but compute in bfloat16, and ONNX
Runtime's CPU kernels have no bfloat16 convolution: the export is of a float32 twin with the
same weights, so the ONNX model matches the Keras model run in float32 (and the bf16 one to
within bf16 rounding; ``docs/benchmarks.md`` has the figures).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np

logger = logging.getLogger(__name__)

_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy")


def _inference_config(node: Any) -> Any:
    """A model config for inference in float32: every dtype policy float32, and the random
    augmentation layers (identity at inference; ONNX has no such ops) replaced by Identity."""
    if isinstance(node, dict):
        config = node.get("config")
        if node.get("class_name") in _POLICY_CLASSES and isinstance(config, dict):
            return {**node, "config": {**config, "name": "float32"}}
        if str(node.get("class_name", "")).startswith("Random") and "inbound_nodes" in node:
            identity = {"name": config["name"], "trainable": False, "dtype": "float32"}
            return {**node, "class_name": "Identity", "config": identity}
        return {key: _inference_config(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_inference_config(value) for value in node]
    return node


def float32_copy(model: keras.Model) -> keras.Model:
    """The same architecture and weights for inference, computing in float32 throughout
    (random augmentation layers, which have no weights, become identities)."""
    copy = model.__class__.from_config(_inference_config(model.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def _inference_only(model: keras.Model) -> keras.Model:
    """``model`` wrapped so that it always runs in inference mode: Keras' export traces the call
    without ``training=False``, which would bake batch-norm's batch statistics into the graph."""
    inputs = [
        keras.Input(tensor.shape[1:], name=tensor.name.split(":")[0]) for tensor in model.inputs
    ]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], outputs, name=model.name)


def export_onnx(model: keras.Model, path: str | os.PathLike) -> Path:
    """Write ``model`` (a functional Keras model) as ONNX to ``path``, atomically.

    Input names are the model's input names (``sketch``, ``category``), batch size dynamic.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    twin = _inference_only(float32_copy(model))
    # Keras exports only a model that has been called once (it traces the call).
    twin.predict_on_batch(
        [np.zeros((1, *tensor.shape[1:]), np.float32) for tensor in twin.inputs]
        if len(twin.inputs) > 1
        else np.zeros((1, *twin.inputs[0].shape[1:]), np.float32)
    )
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as tmp:
        partial = Path(tmp) / target.name
        twin.export(str(partial), format="onnx", verbose=False)
        os.replace(partial, target)
    logger.info(
        "Exported %s to ONNX: %s (%.1f MB)", model.name, target, target.stat().st_size / 1e6
    )
    return target
