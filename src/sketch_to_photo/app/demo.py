"""What the Streamlit demo does beyond the registry and the model card, without Streamlit:
turn the canvas, an upload or a test-split pair into a sketch, run the model under ONNX
Runtime, enlarge the results for display.

``streamlit_app.py`` is the page around these functions and those of
:mod:`sketch_to_photo.app.registered_models` (the store, its versions, loading one) and
:mod:`sketch_to_photo.app.model_card`; tests and notebooks call them directly.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_to_photo.models.export import export_onnx
from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.photograph import LoadedModel
from sketch_to_photo.prediction.preprocessing import (
    SketchInputError,
    is_blank,
    load_image,
    sketch_to_rgb,
)


def onnx_runtime_twin(loaded: LoadedModel) -> LoadedModel:
    """The same model exported to ONNX and run by ONNX Runtime, for the demo server.

    Streamlit calls ``keras.backend.clear_session()`` after every rerun of every session
    (one per canvas stroke); that empties TensorFlow's kernel cache, so each Keras call after
    it pays ~70 ms again. ONNX Runtime keeps its own session and is also faster for one
    small sketch (docs/benchmarks.md): 88 reruns took 0.84 s instead of 7.4 s. The export is
    the float32, inference-mode twin that the served model uses (same weights; the file is
    read into the session and deleted).
    """
    with tempfile.TemporaryDirectory(prefix="sketch_to_photo-onnx-") as folder:
        model = OnnxModel(export_onnx(loaded.model, Path(folder) / "model.onnx"))
    metadata = {**loaded.metadata, "runtime": "ONNX Runtime"}
    return LoadedModel(loaded.version, model, loaded.image_size, loaded.categories, metadata)


def canvas_sketch(rgba: np.ndarray | None) -> np.ndarray | None:
    """The canvas' RGBA drawing as an RGB sketch on white, or None while nothing is drawn."""
    if rgba is None or rgba.size == 0:
        return None
    rgb = sketch_to_rgb(rgba)  # the canvas background is transparent: composited onto white
    return None if is_blank(rgb) else rgb


def read_upload(data: bytes, filename: str) -> np.ndarray:
    """An uploaded file's bytes -> RGB sketch, with a message naming the file when unusable."""
    if not data:
        raise SketchInputError(f"{filename} is empty: upload a PNG or JPEG of the sketch.")
    try:
        rgb = sketch_to_rgb(load_image(data))
    except SketchInputError as exc:
        message = str(exc)
        if "the uploaded data" in message:
            message = message.replace("the uploaded data", filename, 1)
        else:
            message = f"{filename}: {message}"
        raise SketchInputError(message) from exc
    if is_blank(rgb):
        raise SketchInputError(
            f"{filename} has no drawing on it (blank or one colour): upload a sketch with dark "
            "strokes on a light background."
        )
    return rgb


@dataclass(frozen=True)
class HeldOutPair:
    """One sketch of the test split with its real photo."""

    sketch_id: str
    category: str
    sketch: np.ndarray
    photo: np.ndarray

    @property
    def label(self) -> str:
        return f"{self.category}: {self.sketch_id}"


def held_out_pairs(pair_shards: dict[str, Any], per_category: int = 5) -> list[HeldOutPair]:
    """Up to ``per_category`` test pairs per category, from the catalog's ``pair_shards``."""
    pairs: list[HeldOutPair] = []
    taken: dict[str, int] = {}
    for name in sorted(pair_shards):
        if not name.replace("\\", "/").startswith("test/"):
            continue
        shard = pair_shards[name]()
        for i, (sketch_id, category) in enumerate(
            zip(shard["sketch_ids"], shard["categories"], strict=True)
        ):
            if taken.get(str(category), 0) >= per_category:
                continue
            taken[str(category)] = taken.get(str(category), 0) + 1
            pairs.append(
                HeldOutPair(str(sketch_id), str(category), shard["sketches"][i], shard["photos"][i])
            )
    return pairs


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement for display, so a 64 px result isn't blurred twice."""
    factor = max(1, size // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
