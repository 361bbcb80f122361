"""The sketch classifiers (VGG16 and the small CNN): structure, .keras round trip, learning."""

from __future__ import annotations

from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from sketch_to_photo.models import VggWeights, build_sketch_classifier
from sketch_to_photo.models.classifier import build_small_classifier

# Keras' weight saving under NumPy 2 (not this code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SIZE = 32


def circles_and_squares(n_per_class: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sketches in [-1, 1] of a circle (label 0) or a square (label 1), placed at random."""
    rng = np.random.default_rng(seed)
    sketches, labels = [], []
    for label in (0, 1):
        for _ in range(n_per_class):
            image = np.full((size, size, 3), 255, np.uint8)
            cx, cy = (int(v) for v in rng.integers(3 * size // 8, 5 * size // 8, 2))
            radius = int(rng.integers(size // 6, size // 4))
            if label == 0:
                cv2.circle(image, (cx, cy), radius, (0, 0, 0), 2)
            else:
                cv2.rectangle(
                    image, (cx - radius, cy - radius), (cx + radius, cy + radius), (0, 0, 0), 2
                )
            sketches.append(image.astype("float32") / 127.5 - 1.0)
            labels.append(label)
    return np.stack(sketches), np.array(labels)


def test_structure_and_frozen_backbone() -> None:
    model = build_sketch_classifier(4, SIZE)
    assert model.input_shape == (None, SIZE, SIZE, 3)
    assert model.output_shape == (None, 4)
    assert model.get_layer("vgg16").trainable is False
    # Only the head trains: two Dense layers, kernel and bias each.
    assert len(model.trainable_weights) == 4
    probabilities = model(circles_and_squares(1, SIZE, seed=0)[0])
    assert probabilities.dtype == "float32"
    np.testing.assert_allclose(probabilities.numpy().sum(axis=1), 1.0, rtol=1e-5)

    trainable = build_sketch_classifier(
        4, SIZE, VggWeights(None, "random", "test"), train_backbone=True
    )
    assert len(trainable.trainable_weights) == 4 + 2 * 13  # and VGG16's 13 convolutions


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        build_sketch_classifier(1, SIZE)
    with pytest.raises(ValueError):
        build_sketch_classifier(2, 16)


def test_keras_file_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    keras.utils.set_random_seed(0)
    model = build_sketch_classifier(3, SIZE, hidden_units=16)
    path = tmp_path / "classifier.keras"
    keras.saving.save_model(model, path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    sketches, _ = circles_and_squares(2, SIZE, seed=1)
    np.testing.assert_array_equal(
        reloaded.predict(sketches, verbose=0), model.predict(sketches, verbose=0)
    )


def test_learns_circles_from_squares() -> None:
    keras.utils.set_random_seed(0)
    sketches, labels = circles_and_squares(16, SIZE, seed=0)
    held_out, held_out_labels = circles_and_squares(16, SIZE, seed=1)
    model = build_sketch_classifier(2, SIZE, None, train_backbone=True)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(sketches, labels, batch_size=32, epochs=12, verbose=0)
    _, accuracy = model.evaluate(sketches, labels, verbose=0)
    _, held_out_accuracy = model.evaluate(held_out, held_out_labels, verbose=0)
    assert accuracy >= 0.85
    assert held_out_accuracy >= 0.65  # chance is 0.5


def test_small_classifier_shapes_and_augmentation_layers() -> None:
    model = build_small_classifier(5, 48, widths=(8, 16, 32))
    assert model.input_shape == (None, 48, 48, 3)
    assert model.output_shape == (None, 5)
    assert model.get_layer("block3_pool").output.shape == (None, 6, 6, 32)
    assert {"random_flip", "random_shift", "random_zoom", "random_rotation"} <= {
        layer.name for layer in model.layers
    }
    plain = build_small_classifier(5, 48, widths=(8, 16, 32), augment=False)
    assert not any(layer.name.startswith("random_") for layer in plain.layers)
    assert plain.count_params() == model.count_params()  # augmentation has no weights
    probabilities = model(circles_and_squares(2, 48, seed=0)[0])
    assert probabilities.dtype == "float32"
    np.testing.assert_allclose(probabilities.numpy().sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="too small"):
        build_small_classifier(3, 8, widths=(8, 16, 32, 64))
    with pytest.raises(ValueError, match="num_classes"):
        build_small_classifier(1, 32)


def test_small_classifier_augments_only_while_training() -> None:
    keras.utils.set_random_seed(0)
    model = build_small_classifier(2, SIZE, widths=(8, 16), dropout=0.0)
    sketches, _ = circles_and_squares(4, SIZE, seed=2)
    first, second = model(sketches, training=False), model(sketches, training=False)
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    np.testing.assert_array_equal(model.predict(sketches, verbose=0), first.numpy())
    # In training mode the random layers move the strokes (batch norm alone is deterministic).
    augmented = model.get_layer("random_rotation").output
    probe = keras.Model(model.input, augmented)
    moved = probe(sketches, training=True).numpy()
    assert np.abs(moved - sketches).max() > 0.5
    np.testing.assert_array_equal(probe(sketches, training=False).numpy(), sketches)
