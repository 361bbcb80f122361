"""One sketch in, one photo out: the generation step shared by the demo, the batch inference
pipeline and the served model.

A model here is a Keras model or its ONNX Runtime export (:class:`Predictor`), with what its
registration recorded (image size, categories). Neither TensorFlow nor MLflow is imported, so
the served model runs with ONNX Runtime alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from sketch_to_photo.prediction.preprocessing import (
    ImageSource,
    category_name,
    generator_inputs,
    is_class_aware,
    preprocess_sketch,
    to_uint8,
)


class Predictor(Protocol):
    """What the inference path needs of a model: ``keras.Model`` and ``OnnxModel`` both fit."""

    inputs: Any

    def predict_on_batch(self, x: Any) -> Any: ...


def display_name(category: str) -> str:
    """``teddy_bear`` -> ``teddy bear``."""
    return category.replace("_", " ")


@dataclass
class LoadedModel:
    """A registered model (Keras, or its ONNX export) and what the registration recorded."""

    version: Any  # the registry's description of it (the demo's ModelVersion, or a label)
    model: Predictor
    image_size: int
    categories: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def class_aware(self) -> bool:
        """True for a generator that takes the category as a second input."""
        return is_class_aware(self.model)

    def warm_up(self) -> None:
        """One call on zeros, so the first timing shown is the model's, not graph tracing."""
        zeros = np.zeros((1, self.image_size, self.image_size, 3), np.float32)
        self.model.predict_on_batch(
            generator_inputs(self.model, zeros, [0] if self.class_aware else None)
        )


class CategoryNeeded(ValueError):
    """A class-aware generator needs a category and none could be guessed: ask the user."""


GUESSED, PICKED = "the classifier's guess", "picked"


@dataclass(frozen=True)
class Result:
    """One sketch's outcome: the model's input and output, and the category guess."""

    sketch: np.ndarray  # (S, S, 3) uint8: what the generator saw
    photo: np.ndarray  # (S, S, 3) uint8
    generation_ms: float
    probabilities: dict[str, float]  # category -> probability, most likely first; {} without one
    category: str | None = None  # the category a class-aware generator drew; None otherwise
    category_source: str | None = None  # GUESSED or PICKED

    @property
    def guess(self) -> str | None:
        return next(iter(self.probabilities), None)

    @property
    def category_note(self) -> str | None:
        """``ant (the classifier's guess)``; None for a generator without category input."""
        if self.category is None:
            return None
        return f"{display_name(self.category)} ({self.category_source})"


def classify(source: ImageSource, classifier: LoadedModel) -> dict[str, float]:
    """The sketch classifier's probabilities, most likely category first."""
    x = preprocess_sketch(source, classifier.image_size)
    scores = np.asarray(classifier.model.predict_on_batch(x[None])[0], dtype=np.float64)
    names = classifier.categories or [f"class {i}" for i in range(len(scores))]
    return {names[i]: float(scores[i]) for i in np.argsort(-scores)}


def guessed_category(probabilities: dict[str, float], categories: list[str]) -> str | None:
    """The classifier's most probable category among the generator's ``categories`` (matched by
    name); None when the classifier knows none of them."""
    return next((name for name in probabilities if name in categories), None)


def sketch_to_photo(
    source: ImageSource,
    generator: LoadedModel,
    classifier: LoadedModel | None = None,
    category: str | None = None,
) -> Result:
    """Generate the photo for one sketch (and guess its category when a classifier is given).

    A class-aware generator draws ``category`` (one of ``generator.categories``, or its
    displayed form: ``teddy bear``) when given, else the classifier's guess;
    :class:`CategoryNeeded` when there is neither. A plain generator does not use
    ``category``, but an unknown one is still an error, for both.
    Raises :class:`SketchInputError` for input that is not a usable sketch.
    """
    if category is not None:
        category = category_name(category, generator.categories)
    if category is not None and generator.categories and category not in generator.categories:
        raise ValueError(
            f"{category!r} is not one of this model's categories: {generator.categories}"
        )
    x = preprocess_sketch(source, generator.image_size)
    probabilities = classify(source, classifier) if classifier is not None else {}
    used, how, index = None, None, None
    if generator.class_aware:
        if category is not None:
            used, how = category, PICKED
        else:
            used, how = guessed_category(probabilities, generator.categories), GUESSED
            if used is None:
                raise CategoryNeeded(
                    "this model draws the category it is given: pick one "
                    + (
                        "(no sketch classifier is loaded to guess it)."
                        if classifier is None
                        else "(the sketch classifier knows none of this model's categories)."
                    )
                )
        index = generator.categories.index(used)
    inputs = generator_inputs(generator.model, x[None], None if index is None else [index])
    started = time.perf_counter()
    photo = to_uint8(generator.model.predict_on_batch(inputs)[0])  # compiled, not eager
    generation_ms = (time.perf_counter() - started) * 1000
    return Result(to_uint8(x), photo, generation_ms, probabilities, used, how)
