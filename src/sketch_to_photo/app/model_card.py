"""The model card: what a registered generator (or sketch classifier) was trained on and how
it scored, read from its MLflow metadata and told truthfully (what was not recorded is said to
be unknown, never guessed).

The demo shows it above the canvas, and each registered version carries it as its description
in the registry (:func:`registry_card`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mlflow import MlflowClient

from sketch_to_photo.app.registered_models import ModelVersion, model_version
from sketch_to_photo.prediction.photograph import LoadedModel, display_name

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
        model_version(found, []),
        metadata,
        int(metadata.get("image_size") or 0),
        bool(metadata.get("class_aware", False)),
    )


def model_card(loaded: LoadedModel) -> ModelCard:
    """The model card of a loaded registered version."""
    return ModelCard.from_metadata(
        loaded.version, loaded.metadata, loaded.image_size, loaded.class_aware
    )
