"""A sketch classifier: VGG16 features and a small dense head (the seed's category guess).

It takes the generator's input, a sketch as float32 RGB in [-1, 1], and converts it to VGG16's
input itself, so the scale it is trained on is the scale it is fed. Import
:mod:`sketch_to_photo.models` before ``keras.saving.load_model`` so that its preprocessing
layer is registered.
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
