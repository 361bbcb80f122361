"""Assembling the compiled pix2pix model from the training parameters."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sketch_to_photo.models.assembly import build_pix2pix, resolve_jit_compile
from sketch_to_photo.models.precision import has_gpu


def test_jit_compile_auto_is_off_without_a_gpu_and_rejects_typos():
    if has_gpu():
        pytest.skip("auto turns XLA on with a GPU")
    assert resolve_jit_compile("auto") is False
    assert resolve_jit_compile(True) is True
    with pytest.raises(ValueError, match="auto, true or false"):
        resolve_jit_compile("yes")


def test_the_training_parameters_reach_the_compiled_model():
    training = yaml.safe_load(
        (Path(__file__).parents[2] / "conf" / "base" / "parameters_training.yml").read_text()
    )["training"]
    training.update(
        image_size=32, base_filters=8, precision="float32", r1_weight=0.5,
        feature_matching_weight=3.0, generator_ema=0.99,
        discriminator_augment=["translation", "cutout"], discriminator_learning_rate=4e-4,
        beta_1=0.0, beta_2=0.9, category_critic_weight=0.5,
    )  # fmt: skip
    training["perceptual"]["weight"] = 0.0
    model, setup = build_pix2pix(training, num_classes=2)
    assert model.class_aware and setup["vgg_weights"] == "unused"
    assert (model.r1_weight, model.feature_matching_weight) == (0.5, 3.0)
    assert model.discriminator_augment == ("translation", "cutout")
    # the category critic, on the photo alone, learns at the discriminator's rate
    assert model.category_weight == 0.5
    assert model.category_critic.output_shape == (None, 2)
    assert float(model.critic_optimizer.learning_rate.numpy()) == pytest.approx(4e-4)
    assert (model.critic_optimizer.beta_1, model.critic_optimizer.beta_2) == (0.0, 0.9)
    assert model.g_optimizer.use_ema and model.g_optimizer.ema_momentum == 0.99
    assert not model.d_optimizer.use_ema
    rates = [float(o.learning_rate.numpy()) for o in (model.g_optimizer, model.d_optimizer)]
    assert rates == pytest.approx([training["learning_rate"], 4e-4])
    for optimizer in (model.g_optimizer, model.d_optimizer):
        assert (optimizer.beta_1, optimizer.beta_2) == (0.0, 0.9)
    training["discriminator_learning_rate"] = None  # null: the generator's rate
    default, _ = build_pix2pix(
        {**training, "generator_ema": 0.0, "category_critic_weight": 0.0}, num_classes=2
    )
    assert float(default.d_optimizer.learning_rate.numpy()) == pytest.approx(2e-4)
    assert default.category_critic is None and default.critic_optimizer is None
    assert model.generator.input_shape[0] == (None, 32, 32, 3)


def test_the_resnet_generator_is_built_from_its_parameters():
    training = yaml.safe_load(
        (Path(__file__).parents[2] / "conf" / "base" / "parameters_training.yml").read_text()
    )["training"]
    training.update(image_size=32, base_filters=4, precision="float32", generator="resnet",
                    resnet_blocks=3, resnet_downsamplings=3)  # fmt: skip
    training["perceptual"]["weight"] = 0.0
    model, _ = build_pix2pix(training, num_classes=2)
    adds = [x for x in model.generator.layers if x.name.endswith("_add")]
    assert len(adds) == 3 and adds[0].output.shape == (None, 4, 4, 32)  # 32 / 2**3, 4 * 2**3
    assert model.class_aware and model.generator.output_shape == (None, 32, 32, 3)
    unet, _ = build_pix2pix({**training, "generator": "unet"}, num_classes=2)
    assert not any(x.name.endswith("_add") for x in unet.generator.layers)
