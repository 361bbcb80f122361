"""Image classifiers: the sketch classifier (the seed's category guess) and the photo judge.

Both take the generator's input range, float32 RGB in [-1, 1], and convert it themselves, so
the scale they are trained on is the scale they are fed. Two backbones:

- :func:`build_sketch_classifier`: VGG16 features and a small dense head. Worth it only with
  ImageNet weights: VGG16 has no normalisation, and trained from random weights on a few
  thousand sketches it collapses to one class (measured: every test sketch called
  ``alarm_clock``).
- :func:`build_small_classifier`: a small batch-normalised CNN trained from scratch, with
  random flips, shifts, zooms and rotations inside the model (active only while training,
  filling with white paper), for when ImageNet weights cannot be had.

Import :mod:`sketch_to_photo.models` before ``keras.saving.load_model`` so that the
preprocessing layer is registered.
"""

from __future__ import annotations

import keras
from keras import layers

from sketch_to_photo.models.perceptual import VggPreprocess, VggWeights


def build_sketch_classifier(
    num_classes: int,
    image_size: int = 128,
    weights: VggWeights | None = None,
    train_backbone: bool = False,
    hidden_units: int = 128,
    dropout: float = 0.3,
    name: str = "sketch_classifier",
) -> keras.Model:
    """Sketch ``(S, S, 3)`` in [-1, 1] -> class probabilities ``(num_classes,)`` (float32).

    The VGG16 backbone (no top; ``weights=None`` means random) is frozen unless
    ``train_backbone``.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if image_size < 32:
        raise ValueError(f"VGG16 needs images of at least 32 pixels, got {image_size}")
    backbone = keras.applications.VGG16(
        include_top=False,
        weights=weights.keras_weights if weights is not None else None,
        input_shape=(image_size, image_size, 3),
    )
    backbone.trainable = train_backbone

    inputs = keras.Input((image_size, image_size, 3), name="sketch")
    x = VggPreprocess(name="vgg_preprocess")(inputs)
    x = backbone(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def build_small_classifier(
    num_classes: int,
    image_size: int = 64,
    widths: tuple[int, ...] = (32, 64, 128, 256),
    dropout: float = 0.3,
    augment: bool = True,
    name: str = "small_classifier",
) -> keras.Model:
    """Image ``(S, S, 3)`` in [-1, 1] -> class probabilities, a CNN trained from scratch.

    Each block is two 3x3 convolutions with batch norm and ReLU, then 2x2 max pooling; global
    average pooling and dropout before the softmax. ``augment`` adds random mirroring, shifts
    (10%), zooms (15%) and rotations (about 10 degrees) that fill with white, the background of
    both the sketches and the cut-out photos.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if image_size < 2 ** len(widths):
        raise ValueError(
            f"image_size {image_size} is too small for {len(widths)} pooling blocks "
            f"(at least {2 ** len(widths)})"
        )
    inputs = keras.Input((image_size, image_size, 3), name="image")
    x = inputs
    if augment:
        white = {"fill_mode": "constant", "fill_value": 1.0}  # 1.0 is white in [-1, 1]
        x = layers.RandomFlip("horizontal", name="random_flip")(x)
        x = layers.RandomTranslation(0.1, 0.1, name="random_shift", **white)(x)
        x = layers.RandomZoom(0.15, name="random_zoom", **white)(x)
        x = layers.RandomRotation(0.03, name="random_rotation", **white)(x)
    for i, width in enumerate(widths, start=1):
        for j in (1, 2):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{i}_conv{j}")(x)
            # Momentum 0.9, not Keras' 0.99: a judge trained for ~200 steps on a few hundred
            # photos must end with moving statistics that match its weights (with 0.99 it
            # called every real test photo "ant").
            x = layers.BatchNormalization(momentum=0.9, name=f"block{i}_norm{j}")(x)
            x = layers.ReLU(name=f"block{i}_relu{j}")(x)
        x = layers.MaxPooling2D(name=f"block{i}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)
