"""What the Streamlit demo does, without Streamlit: find the project's MLflow store, list and
load the registered models, turn one sketch into a photo and a category guess.

``streamlit_app.py`` is the page around these functions; tests and notebooks call them directly.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from PIL import Image

from sketch_to_photo.inference import (
    ImageSource,
    SketchInputError,
    is_blank,
    load_image,
    preprocess_sketch,
    sketch_to_rgb,
    to_uint8,
)
from sketch_to_photo.registry import CHAMPION

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

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"

    @property
    def label(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        return f"v{self.version}{aliases}, {self.created}"


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
    versions = [
        ModelVersion(
            name=name,
            version=int(v.version),
            aliases=tuple(sorted(by_version.get(int(v.version), []))),
            run_id=str(v.run_id),
            created=time.strftime(
                "%Y-%m-%d %H:%M", time.localtime(int(v.creation_timestamp) / 1000)
            ),
        )
        for v in found
    ]
    return sorted(versions, key=lambda v: (CHAMPION not in v.aliases, -v.version))


@dataclass
class LoadedModel:
    """A registered Keras model and what the registration recorded about it."""

    version: ModelVersion
    model: keras.Model
    image_size: int
    categories: list[str] = field(default_factory=list)


def load_registered_model(store: MlflowStore, version: ModelVersion) -> LoadedModel:
    """Load one registered version with the ``mlflow.keras`` flavour, with its metadata."""
    mlflow.set_tracking_uri(store.tracking_uri)
    mlflow.set_registry_uri(store.registry_uri)
    model = mlflow.keras.load_model(version.uri)
    metadata = mlflow.models.get_model_info(version.uri).metadata or {}
    image_size = int(metadata.get("image_size") or model.input_shape[1])
    return LoadedModel(version, model, image_size, list(metadata.get("categories", [])))


@dataclass(frozen=True)
class Result:
    """One sketch's outcome: the model's input and output, and the category guess."""

    sketch: np.ndarray  # (S, S, 3) uint8: what the generator saw
    photo: np.ndarray  # (S, S, 3) uint8
    generation_ms: float
    probabilities: dict[str, float]  # category -> probability, most likely first; {} without one

    @property
    def guess(self) -> str | None:
        return next(iter(self.probabilities), None)


def sketch_to_photo(
    source: ImageSource, generator: LoadedModel, classifier: LoadedModel | None = None
) -> Result:
    """Generate the photo for one sketch (and guess its category when a classifier is given).

    Raises :class:`SketchInputError` for input that is not a usable sketch.
    """
    x = preprocess_sketch(source, generator.image_size)
    started = time.perf_counter()
    photo = to_uint8(generator.model.predict_on_batch(x[None])[0])  # compiled, not eager
    generation_ms = (time.perf_counter() - started) * 1000
    probabilities: dict[str, float] = {}
    if classifier is not None:
        same_size = classifier.image_size == generator.image_size
        xc = x if same_size else preprocess_sketch(source, classifier.image_size)
        scores = np.asarray(classifier.model.predict_on_batch(xc[None])[0], dtype=np.float64)
        names = classifier.categories or [f"class {i}" for i in range(len(scores))]
        order = np.argsort(-scores)
        probabilities = {names[i]: float(scores[i]) for i in order}
    return Result(to_uint8(x), photo, generation_ms, probabilities)


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


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file bytes (for the download button)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def enlarge(image: np.ndarray, size: int) -> np.ndarray:
    """Nearest-neighbour enlargement for display, so a 64 px result isn't blurred twice."""
    factor = max(1, size // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)
