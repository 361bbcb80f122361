"""Category faithfulness: does a generated photo show the object its sketch was of?

The sketch-to-photo analogue of pix2pix's FCN-score. A photo classifier, the *judge*, is
trained only on the real train-split photos of the run's categories; its accuracy on other
images against the sketches' categories says how recognisable they are. It is measured on the
real test photos (the ceiling a generator can hope for with this judge), on the photos
generated from the test sketches, and on the baselines (chance is ``1 / categories``).

With ImageNet VGG16 weights (``auto`` finds them cached, ``imagenet`` downloads them) the judge
is a frozen VGG16 with a small head; without them it is the small CNN of
:func:`build_small_classifier` trained from scratch. Which one judged is recorded, since scores
from different judges are not comparable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import keras
import numpy as np

from sketch_to_photo.models.classifier import build_sketch_classifier, build_small_classifier
from sketch_to_photo.models.perceptual import VggWeights

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JudgeSettings:
    """How the judge is trained (``evaluation.faithfulness`` in the parameters)."""

    image_size: int = 64
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    seed: int = 0


def build_judge(num_classes: int, image_size: int, weights: VggWeights | None) -> keras.Model:
    """A frozen ImageNet VGG16 with a head when such weights exist, else the small CNN."""
    if weights is not None and weights.source != "random":
        return build_sketch_classifier(num_classes, image_size, weights, name="photo_judge")
    return build_small_classifier(num_classes, image_size, name="photo_judge")


def train_judge(
    photos: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    settings: JudgeSettings,
    weights: VggWeights | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> keras.Model:
    """Fit the judge on real photos ``(N, S, S, 3)`` in [-1, 1] with integer ``labels``;
    ``callbacks`` (e.g. a progress logger) go to ``fit``."""
    if len(photos) != len(labels):
        raise ValueError(f"{len(photos)} photos but {len(labels)} labels")
    present = np.unique(labels)
    if len(present) < 2:
        raise ValueError(
            "the faithfulness judge needs train photos of at least two categories, got "
            f"{len(present)}: check index.categories and the train split"
        )
    keras.utils.set_random_seed(settings.seed)
    judge = build_judge(num_classes, settings.image_size, weights)
    judge.compile(
        optimizer=keras.optimizers.Adam(settings.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Few photos per category: balance the classes so the judge has no favourite.
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    class_weight = {int(c): float(len(labels) / (len(present) * counts[c])) for c in present}
    history = judge.fit(
        photos,
        labels,
        batch_size=settings.batch_size,
        epochs=settings.epochs,
        shuffle=True,
        class_weight=class_weight,
        callbacks=list(callbacks),
        verbose=0,
    )
    logger.info(
        "Faithfulness judge trained on %d real photos, %d epochs, final train accuracy %.3f",
        len(photos),
        settings.epochs,
        history.history["accuracy"][-1],
    )
    return judge


def judge_predictions(judge: keras.Model, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """The judge's category index for each image ``(N, S, S, 3)`` in [-1, 1]."""
    if len(images) == 0:
        return np.zeros((0,), np.int64)
    size = int(judge.input_shape[1])
    if images.shape[1:3] != (size, size):
        images = np.asarray(keras.ops.image.resize(images, (size, size), antialias=True))
    probabilities = judge.predict(images, batch_size=batch_size, verbose=0)
    return np.argmax(probabilities, axis=1)


def accuracy_by_category(
    predicted: np.ndarray, labels: np.ndarray, categories: Sequence[str]
) -> dict[str, float | dict[str, float | None]]:
    """Overall accuracy and accuracy per category (None for a category with no image)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    per_category: dict[str, float | None] = {}
    for index, name in enumerate(categories):
        mine = labels == index
        per_category[name] = float(np.mean(predicted[mine] == index)) if mine.any() else None
    overall = float(np.mean(predicted == labels)) if len(labels) else float("nan")
    return {"accuracy": overall, "per_category": per_category}
