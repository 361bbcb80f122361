"""What the Streamlit demo does, without Streamlit: find the project's MLflow store, list and
load the registered models, describe them truthfully (the model card), turn one sketch into a
photo and a category guess.

``streamlit_app.py`` is the page around these functions; tests and notebooks call them directly.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.mlops.model_registry import CHAMPION
from sketch_to_photo.models.export import export_onnx
from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.photograph import LoadedModel, display_name
from sketch_to_photo.prediction.preprocessing import (
    SketchInputError,
    is_blank,
    load_image,
    sketch_to_rgb,
)

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
    versions = [_model_version(v, by_version.get(int(v.version), [])) for v in found]
    return sorted(versions, key=lambda v: (CHAMPION not in v.aliases, -v.version))


def _model_version(found: Any, aliases: list[str]) -> ModelVersion:
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


UNKNOWN = "unknown (not recorded with this version)"

DATA_SOURCES = {
    "synthetic": "synthetic drawings and renderings made by the project (no real photos)",
    "sketchy": "real Sketchy photos and sketches (the official download)",
    "local": "real Sketchy photos and sketches (a local copy)",
}


def list_names(names: list[str], limit: int | None = None) -> str:
    """``a, b and c`` (``a, b and 3 more`` beyond ``limit``)."""
    shown = [display_name(n) for n in names]
    if limit is not None and len(shown) > limit:
        return f"{', '.join(shown[:limit])} and {len(shown) - limit} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    try:
        number = None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None
    return None if number is None or np.isnan(number) else number


def _count(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0%}"


GENERATOR, CLASSIFIER = "generator", "classifier"  # the kinds of model a card describes


@dataclass(frozen=True)
class ModelCard:
    """What a registered generator (or sketch classifier, ``kind``) was trained on and how it
    scored, from its MLflow metadata. The demo shows it above the canvas, and each registered
    version carries it as its description (:meth:`description`).

    Versions registered before a key was recorded get :data:`UNKNOWN` for it, never a guess.
    """

    version: ModelVersion
    image_size: int
    categories: tuple[str, ...]
    class_aware: bool
    data_source: str | None = None
    train_pairs: int | None = None
    validation_pairs: int | None = None
    test_pairs: int | None = None
    epochs: int | None = None
    test_metrics: tuple[tuple[str, float | None], ...] = ()
    kind: str = GENERATOR
    backbone: str | None = None

    @classmethod
    def from_metadata(
        cls, version: ModelVersion, metadata: dict[str, Any], image_size: int, class_aware: bool
    ) -> ModelCard:
        training = metadata.get("training") if isinstance(metadata.get("training"), dict) else {}
        metrics = metadata.get("test_metrics")
        metrics = metrics if isinstance(metrics, dict) else {}
        source = training.get("data_source")
        return cls(
            version=version,
            image_size=image_size,
            categories=tuple(str(c) for c in metadata.get("categories") or ()),
            class_aware=class_aware,
            data_source=None if source is None else str(source),
            train_pairs=_int(training.get("train_pairs")),
            validation_pairs=_int(training.get("validation_pairs")),
            test_pairs=_int(metadata.get("test_pairs")),
            epochs=_int(training.get("epochs")),
            test_metrics=tuple(sorted((str(k), _number(v)) for k, v in metrics.items())),
            kind=CLASSIFIER if metadata.get("kind") == CLASSIFIER else GENERATOR,
            backbone=None if metadata.get("backbone") is None else str(metadata["backbone"]),
        )

    def metric(self, name: str) -> float | None:
        return dict(self.test_metrics).get(name)

    @property
    def training_data(self) -> str:
        if self.data_source is None:
            return UNKNOWN
        return DATA_SOURCES.get(self.data_source, f"{self.data_source!r} (an unknown source)")

    @property
    def _classifier(self) -> bool:
        return self.kind == CLASSIFIER

    def summary(self) -> str:
        """One sentence: which version, trained on what, at which size."""
        real = "real Sketchy sketches" if self._classifier else "real Sketchy photos"
        what = {
            "synthetic": "synthetic drawings (no real photos)",
            "sketchy": real,
            "local": real,
        }.get(self.data_source or "", "data that was not recorded")
        parts = []
        if self.categories:
            parts.append(f"{len(self.categories)} categories")
        if self.train_pairs is not None:
            unit = "sketches" if self._classifier else "pairs"
            parts.append(f"{self.train_pairs:,} training {unit}")
        if self.epochs is not None:
            parts.append(f"{self.epochs} epochs")
        detail = f" ({', '.join(parts)})" if parts else ""
        if self._classifier:
            accuracy = self.metric("accuracy")
            score = (
                f"; it puts {accuracy:.0%} of its test sketches in the right category"
                if accuracy is not None
                else ""
            )
            model = "Sketch classifier"
        else:
            faithful = self.metric("faithfulness")
            score = (
                f"; {faithful:.0%} of its test photos are recognised as the sketch's category"
                if faithful is not None
                else ""
            )
            model = "Generator"
        return (
            f"{model} {self.version.label}: trained on {what}{detail}, "
            f"{self.image_size}x{self.image_size} pixels{score}."
        )

    def table(self) -> str:
        """The rows as a two-column Markdown table."""
        rows = "".join(
            f"| **{name}** | {value.replace('|', '&#124;')} |\n" for name, value in self.rows()
        )
        return f"| | |\n|---|---|\n{rows}"

    def description(self) -> str:
        """The whole card in Markdown, the summary over the table: a registered version's
        description in the MLflow registry."""
        return f"{self.summary()}\n\n{self.table()}"

    def rows(self) -> list[tuple[str, str]]:
        """The card as (field, value) rows, every field present."""
        if self._classifier:
            return self._classifier_rows()
        return [
            *self._identity_rows(),
            ("Pairs", self._pairs()),
            ("Image size", f"{self.image_size} x {self.image_size} pixels"),
            ("Epochs", UNKNOWN if self.epochs is None else str(self.epochs)),
            (
                "Category input",
                "yes: it draws the category it is given (the classifier's guess unless you "
                "pick one)"
                if self.class_aware
                else "no: the sketch alone",
            ),
            ("Test metrics", self._metrics()),
            ("Faithfulness", self._faithfulness()),
            ("Shape", self._shape()),
        ]

    def _identity_rows(self) -> list[tuple[str, str]]:
        """The rows every card starts with: version, training data, categories."""
        return [
            ("Version", f"{self.version.label} (`{self.version.uri}`)"),
            ("Training data", self.training_data),
            (
                "Categories",
                f"{len(self.categories)}: {list_names(list(self.categories))}"
                if self.categories
                else UNKNOWN,
            ),
        ]

    def _classifier_rows(self) -> list[tuple[str, str]]:
        return [
            *self._identity_rows(),
            ("Sketches", self._pairs()),
            ("Image size", f"{self.image_size} x {self.image_size} pixels"),
            ("Epochs", UNKNOWN if self.epochs is None else str(self.epochs)),
            ("Backbone", self.backbone or UNKNOWN),
            ("Test accuracy", self._accuracy()),
        ]

    def _accuracy(self) -> str:
        accuracy = self.metric("accuracy")
        if accuracy is None:
            return UNKNOWN
        on = f" of {self.test_pairs:,}" if self.test_pairs is not None else ""
        return (
            f"{accuracy:.0%}{on} test sketches put in their category (always answering the most "
            f"frequent category: {_percent(self.metric('majority_class_accuracy'))}, chance: "
            f"{_percent(self.metric('chance_accuracy'))})"
        )

    def _shape(self) -> str:
        """Stroke recall, fill and photo-likeness beside the real test photos' and a sketch
        copy's (a coloured blob or the line drawing itself cannot pass all three)."""
        recall, fill, kid = (self.metric(m) for m in ("stroke_recall", "fill", "photo_kid"))
        if recall is None:
            return UNKNOWN

        def beside(name: str, fmt: str) -> str:
            real, copy = self.metric(f"real_photos_{name}"), self.metric(f"sketch_copy_{name}")
            real_text = "unknown" if real is None else format(real, fmt)
            copy_text = "unknown" if copy is None else format(copy, fmt)
            return f"(real test photos {real_text}, a copy of the sketch {copy_text})"

        parts = [f"stroke recall {recall:.2f} {beside('stroke_recall', '.2f')}"]
        if fill is not None:
            parts.append(f"fill {fill:.2f} {beside('fill', '.2f')}")
        if kid is not None:
            parts.append(
                f"photo KID {kid:.2f}, lower is more photo-like {beside('photo_kid', '.2f')}"
            )
        return "; ".join(parts)

    def _pairs(self) -> str:
        counts = (self.train_pairs, self.validation_pairs, self.test_pairs)
        if all(c is None for c in counts):
            return UNKNOWN
        train, validation, test = (_count(c) for c in counts)
        return f"training {train}, validation {validation}, test {test}"

    def _metrics(self) -> str:
        l1, ssim, psnr = (self.metric(m) for m in ("l1", "ssim", "psnr"))
        if l1 is None and ssim is None and psnr is None:
            return UNKNOWN
        parts = [
            "L1 unknown" if l1 is None else f"L1 {l1:.3f}",
            "SSIM unknown" if ssim is None else f"SSIM {ssim:.3f}",
            "PSNR unknown" if psnr is None else f"PSNR {psnr:.1f} dB",
        ]
        baseline = self.metric("mean_photo_l1")
        if baseline is not None:
            parts[0] += f" (mean training photo: {baseline:.3f})"
        on = f" on {self.test_pairs:,} test pairs" if self.test_pairs is not None else ""
        return ", ".join(parts) + on

    def _faithfulness(self) -> str:
        faithful = self.metric("faithfulness")
        if faithful is None:
            return UNKNOWN
        text = (
            f"{faithful:.0%} of the generated test photos are put in the sketch's category by a "
            f"photo classifier (real test photos: {_percent(self.metric('faithfulness_real_photos'))}"
            f", mean training photo: {_percent(self.metric('mean_photo_faithfulness'))}"
        )
        guessed = self.metric("faithfulness_guessed_category")
        if guessed is not None:
            text += f"; with the sketch classifier's guessed category: {guessed:.0%}"
        return text + ")"


def registry_card(
    client: MlflowClient, name: str, version: int, metadata: dict[str, Any]
) -> ModelCard:
    """The card of a version just registered from the ``metadata`` it was logged with. Its
    aliases are left out: they move to later versions, the description stays."""
    found = client.get_model_version(name, str(version))
    return ModelCard.from_metadata(
        _model_version(found, []),
        metadata,
        int(metadata.get("image_size") or 0),
        bool(metadata.get("class_aware", False)),
    )


def model_card(loaded: LoadedModel) -> ModelCard:
    """The model card of a loaded registered version."""
    return ModelCard.from_metadata(
        loaded.version, loaded.metadata, loaded.image_size, loaded.class_aware
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


def load_registered_model(store: MlflowStore, version: ModelVersion) -> LoadedModel:
    """Load one registered version with the ``mlflow.keras`` flavour, with its metadata."""
    mlflow.set_tracking_uri(store.tracking_uri)
    mlflow.set_registry_uri(store.registry_uri)
    model = mlflow.keras.load_model(version.uri)
    metadata = dict(mlflow.models.get_model_info(version.uri).metadata or {})
    image_size = int(metadata.get("image_size") or model.inputs[0].shape[1])
    categories = [str(c) for c in metadata.get("categories") or []]
    return LoadedModel(version, model, image_size, categories, metadata)


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
