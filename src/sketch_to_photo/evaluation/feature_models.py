"""The feature networks the evaluation's metrics need: VGG16 features for the perceptual
distance, and InceptionV3's pooled features for FID (or why FID cannot be had: it needs the
ImageNet weights)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from sketch_to_photo.models import (
    PerceptualLoss,
    VggWeights,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models.perceptual import CONNECT_TIMEOUT_S, check_reachable, keras_cache_path

INCEPTION_NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_NOTOP_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/{INCEPTION_NOTOP_FILE}"


def perceptual_distance(
    vgg_weights: str, layers: list[str], size: int
) -> tuple[PerceptualLoss, VggWeights]:
    """The VGG16 perceptual distance at ``size`` px, and where its weights came from."""
    weights = resolve_vgg_weights(vgg_weights)
    return PerceptualLoss(build_vgg16_features(weights, layers, size)), weights


def inception_features_model(option: str) -> tuple[keras.Model | None, str]:
    """InceptionV3 pooled features for FID, or None and why it cannot be had."""
    if option == "none":
        return None, "disabled (evaluation.fid_weights: none)"
    if option != "auto":
        if not Path(option).is_file():
            return None, f"InceptionV3 weights file {option} not found"
        weights = option
    else:
        cached = keras_cache_path(INCEPTION_NOTOP_FILE)
        if not cached.is_file():
            try:
                check_reachable(INCEPTION_NOTOP_URL, CONNECT_TIMEOUT_S)
            except OSError as error:
                return None, (
                    f"InceptionV3 ImageNet weights are not cached at {cached} and cannot be downloaded "
                    f"({error.__class__.__name__}: {error}); place the file there to compute FID"
                )
        else:
            option = str(cached)
        weights = option if option != "auto" else "imagenet"
    model = keras.applications.InceptionV3(
        include_top=False, weights=weights, pooling="avg", input_shape=(299, 299, 3)
    )
    return model, ""


def inception_features(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The pooled InceptionV3 features of ``images`` (N, S, S, 3) in [-1, 1]."""
    resized = keras.ops.image.resize((images + 1.0) * 127.5, (299, 299))
    return np.asarray(
        model.predict(keras.applications.inception_v3.preprocess_input(resized), verbose=0)
    )
