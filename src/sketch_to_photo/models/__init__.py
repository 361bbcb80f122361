"""Plain Keras models: pix2pix, VGG16 perceptual loss and the sketch classifier."""

from sketch_to_photo.models.classifier import build_sketch_classifier
from sketch_to_photo.models.perceptual import (
    DEFAULT_FEATURE_LAYERS,
    VGG_NOTOP_FILE,
    PerceptualLoss,
    VggWeights,
    VggWeightsUnavailable,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models.pix2pix import (
    Pix2Pix,
    build_category_critic,
    build_discriminator,
    build_generator,
    build_resnet_generator,
)

__all__ = [
    "DEFAULT_FEATURE_LAYERS",
    "VGG_NOTOP_FILE",
    "PerceptualLoss",
    "Pix2Pix",
    "VggWeights",
    "VggWeightsUnavailable",
    "build_category_critic",
    "build_discriminator",
    "build_generator",
    "build_resnet_generator",
    "build_sketch_classifier",
    "build_vgg16_features",
    "resolve_vgg_weights",
]
