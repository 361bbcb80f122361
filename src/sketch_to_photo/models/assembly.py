"""Assembling the compiled pix2pix model from the ``training`` parameters: both networks, the
VGG16 perceptual loss, the optimizers, the dtype policy and XLA, inside a strategy's scope."""

from __future__ import annotations

from typing import Any

import keras
import mlflow
import tensorflow as tf

from sketch_to_photo.models.perceptual import (
    PerceptualLoss,
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
from sketch_to_photo.models.precision import has_gpu, set_precision_policy, wrap_optimizer

JIT_CHOICES = ("auto", True, False)


def resolve_jit_compile(option: Any) -> bool:
    """``training.jit_compile``: ``auto`` is XLA on a GPU and off on a CPU (slower here)."""
    if option not in JIT_CHOICES:  # YAML gives booleans for true/false
        raise ValueError(f"training.jit_compile must be auto, true or false, got {option!r}")
    return has_gpu() if option == "auto" else bool(option)


def discriminator_learning_rate(training: dict[str, Any]) -> float:
    """``training.discriminator_learning_rate``, or the generator's rate when it is null
    (two time-scales, Heusel et al. 2017: SketchyGAN trains D at twice G's rate)."""
    rate = training.get("discriminator_learning_rate")
    return float(training["learning_rate"] if rate is None else rate)


def _generator(training: dict[str, Any], num_classes: int) -> keras.Model:
    """The generator ``training["generator"]`` names: the U-Net (default) or the ResNet."""
    size, width = int(training["image_size"]), int(training["base_filters"])
    shared = {
        "normalization": training["normalization"],
        "num_classes": num_classes,
        "upsampling": str(training.get("upsampling", "transpose")),
        "stroke_context": bool(training.get("stroke_context", False)),
    }
    if training.get("generator", "unet") == "resnet":
        return build_resnet_generator(
            size,
            width,
            blocks=int(training.get("resnet_blocks", 6)),
            downsamplings=int(training.get("resnet_downsamplings", 2)),
            **shared,
        )
    return build_generator(size, width, dropout=float(training["dropout"]), **shared)


def build_pix2pix(
    training: dict[str, Any],
    strategy: tf.distribute.Strategy | None = None,
    num_classes: int = 0,
) -> tuple[Pix2Pix, dict[str, Any]]:
    """The compiled model from the ``training`` parameters, and how it was set up.

    ``num_classes > 0`` builds the class-aware networks (the category is an input of both).

    The second value holds ``vgg_weights`` (where VGG's weights came from), ``precision``
    (the dtype policy applied) and ``jit_compile``. Everything with variables (both networks,
    VGG, the optimizers) is created inside ``strategy.scope()``. The global dtype policy is
    restored afterwards: layers keep the policy they were built with, and later nodes in the
    same process should not inherit it.
    """
    size, width = int(training["image_size"]), int(training["base_filters"])
    perceptual_options = training["perceptual"]
    jit_compile = resolve_jit_compile(training.get("jit_compile", "auto"))
    previous_policy = keras.mixed_precision.global_policy().name
    policy = set_precision_policy(str(training["precision"]))
    try:
        with (strategy or tf.distribute.get_strategy()).scope():
            perceptual = None
            weights_source = "unused"
            if float(perceptual_options["weight"]) > 0:
                weights = resolve_vgg_weights(str(perceptual_options["vgg_weights"]))
                weights_source = weights.source
                if mlflow.active_run() is not None:
                    mlflow.set_tags(
                        {"vgg_weights": weights.source, "vgg_weights_note": weights.note}
                    )
                features = build_vgg16_features(weights, perceptual_options["layers"], size)
                perceptual = PerceptualLoss(features)
            normalization = training["normalization"]
            betas = {
                "beta_1": float(training["beta_1"]),
                "beta_2": float(training.get("beta_2", 0.999)),
            }
            category_weight = float(training.get("category_critic_weight", 0.0))
            critic = critic_optimizer = None
            if category_weight > 0:
                critic = build_category_critic(size, num_classes, width, normalization)
                # the critic learns at the discriminator's rate
                critic_optimizer = wrap_optimizer(
                    keras.optimizers.Adam(discriminator_learning_rate(training), **betas), policy
                )
            model = Pix2Pix(
                _generator(training, num_classes),
                build_discriminator(
                    size,
                    width,
                    normalization=normalization,
                    num_classes=num_classes,
                    spectral_norm=bool(training["spectral_norm"]),
                    scales=int(training.get("discriminator_scales", 1)),
                ),
                perceptual,
                category_critic=critic,
            )
            ema = float(training.get("generator_ema", 0.0))
            generator_adam = keras.optimizers.Adam(
                float(training["learning_rate"]), **betas, use_ema=ema > 0, ema_momentum=ema
            )
            discriminator_adam = keras.optimizers.Adam(
                discriminator_learning_rate(training), **betas
            )
            model.compile(
                g_optimizer=wrap_optimizer(generator_adam, policy),
                d_optimizer=wrap_optimizer(discriminator_adam, policy),
                l1_weight=float(training["l1_weight"]),
                perceptual_weight=float(perceptual_options["weight"]),
                feature_matching_weight=float(training.get("feature_matching_weight", 0.0)),
                discriminator_augment=tuple(training.get("discriminator_augment", ())),
                r1_weight=float(training.get("r1_weight", 0.0)),
                category_weight=category_weight,
                critic_optimizer=critic_optimizer,
                jit_compile=jit_compile,
            )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    return model, {"vgg_weights": weights_source, "precision": policy, "jit_compile": jit_compile}
