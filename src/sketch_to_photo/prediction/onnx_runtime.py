"""A generator or classifier exported to ONNX, run with ONNX Runtime (no TensorFlow needed).

:class:`OnnxModel` offers the part of ``keras.Model``'s interface that the project's inference
path uses (``inputs[i].shape`` and ``predict_on_batch``), so
:func:`sketch_to_photo.prediction.preprocessing.generator_inputs` and
:mod:`sketch_to_photo.prediction.photograph` run either kind of model unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort


@dataclass(frozen=True)
class InputSpec:
    name: str
    shape: tuple[int | None, ...]


class OnnxModel:
    """An ONNX file in an ONNX Runtime CPU session."""

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no ONNX model at {path}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads  # 0: ONNX Runtime picks (one per core)
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [
            InputSpec(i.name, tuple(d if isinstance(d, int) else None for d in i.shape))
            for i in self.session.get_inputs()
        ]
        self._output = self.session.get_outputs()[0].name

    def predict_on_batch(self, inputs: np.ndarray | list[np.ndarray]) -> np.ndarray:
        arrays = inputs if isinstance(inputs, list | tuple) else [inputs]
        if len(arrays) != len(self.inputs):
            raise ValueError(f"{self.path.name} takes {len(self.inputs)} inputs, got {len(arrays)}")
        feed = {
            spec.name: np.asarray(array, dtype=np.float32)
            for spec, array in zip(self.inputs, arrays, strict=True)
        }
        return self.session.run([self._output], feed)[0]
