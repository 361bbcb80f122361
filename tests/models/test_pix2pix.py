"""pix2pix: architecture, losses, fit() with validation, inference mode, BackupAndRestore."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.models import (
    PerceptualLoss,
    Pix2Pix,
    VggWeights,
    build_category_critic,
    build_discriminator,
    build_generator,
    build_resnet_generator,
    build_vgg16_features,
)
from sketch_to_photo.models.callbacks import LinearLearningRateDecay
from sketch_to_photo.models.pix2pix import STROKE_CONTEXT_RADII

# Keras' weight saving under NumPy 2 (not this code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SIZE = 32
WIDTH = 8
TF_TUTORIAL_GENERATOR_PARAMS = 54_425_859
TF_TUTORIAL_DISCRIMINATOR_PARAMS = 2_770_433


def circle_pairs(n: int, size: int = SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sketches (a circle's outline on white) and photos (the disk filled with a colour)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    sketches = np.ones((n, size, size, 3), "float32")
    photos = np.ones((n, size, size, 3), "float32")
    for i in range(n):
        cy, cx = rng.uniform(0.35 * size, 0.65 * size, 2)
        radius = rng.uniform(0.15 * size, 0.3 * size)
        distance = np.hypot(yy - cy, xx - cx)
        sketches[i][np.abs(distance - radius) < 1.0] = -1.0
        photos[i][distance < radius] = rng.uniform(-1.0, 0.5, 3)
    return sketches, photos


def make_model(
    perceptual: PerceptualLoss | None = None,
    perceptual_weight: float = 0.0,
    seed: int = 0,
    run_eagerly: bool = False,
    feature_matching_weight: float = 0.0,
    generator_ema: float = 0.0,
    discriminator_augment: tuple[str, ...] = (),
    r1_weight: float = 0.0,
) -> Pix2Pix:
    keras.utils.set_random_seed(seed)
    model = Pix2Pix(build_generator(SIZE, WIDTH), build_discriminator(SIZE, WIDTH), perceptual)
    # A higher rate than pix2pix's 2e-4 so that a few steps show progress.
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            2e-3, beta_1=0.5, use_ema=generator_ema > 0, ema_momentum=generator_ema
        ),
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        perceptual_weight=perceptual_weight,
        feature_matching_weight=feature_matching_weight,
        discriminator_augment=discriminator_augment,
        r1_weight=r1_weight,
        run_eagerly=run_eagerly,  # no tracing: faster for a handful of steps
    )
    return model


def assert_same_weights(a: keras.Model, b: keras.Model) -> None:
    for a_weight, b_weight in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(a_weight, b_weight, rtol=1e-5, atol=1e-7)


def assert_weights_differ(a: keras.Model, b: keras.Model) -> None:
    assert any(not np.allclose(p, q) for p, q in zip(a.get_weights(), b.get_weights(), strict=True))


def dataset(sketches: np.ndarray, photos: np.ndarray, batch_size: int) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((sketches, photos)).batch(batch_size)


@pytest.fixture(scope="module")
def trained() -> tuple[Pix2Pix, dict[str, list[float]], np.ndarray, np.ndarray]:
    """Four pairs overfit for 30 steps (3 epochs of 10), validated on the same pairs."""
    sketches, photos = circle_pairs(4)
    model = make_model()
    data = dataset(sketches, photos, 4)
    history = model.fit(
        data.repeat(), steps_per_epoch=10, epochs=3, validation_data=data, verbose=0
    )
    return model, history.history, sketches, photos


@pytest.fixture(scope="module")
def full_size() -> tuple[keras.Model, keras.Model]:
    """The paper's models, 256 px and 64 base filters (built, never run)."""
    return build_generator(256, 64), build_discriminator(256, 64)


@pytest.fixture(scope="module")
def perceptual() -> PerceptualLoss:
    features = build_vgg16_features(
        VggWeights(None, "random", "test"), ("block1_conv2", "block2_conv2"), SIZE
    )
    return PerceptualLoss(features)


@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_maps_images_to_images(size: int) -> None:
    generator = build_generator(size, 4)
    sketches, _ = circle_pairs(2, size)
    photos = generator(sketches, training=False)
    assert photos.shape == (2, size, size, 3)
    assert photos.dtype == tf.float32
    assert np.all(np.abs(photos.numpy()) <= 1.0)


@pytest.mark.parametrize(("size", "patches"), [(32, 2), (64, 6), (128, 14)])
def test_discriminator_gives_one_logit_per_patch(size: int, patches: int) -> None:
    discriminator = build_discriminator(size, 4)
    sketches, photos = circle_pairs(2, size)
    logits = discriminator([sketches, photos], training=False)
    assert logits.shape == (2, patches, patches, 1)
    assert logits.dtype == tf.float32


def test_a_multi_scale_discriminator_adds_a_patchgan_on_the_halved_pair() -> None:
    multi = build_discriminator(64, 4, scales=2)
    single = build_discriminator(64, 4)
    assert {layer.name for layer in single.layers} < {layer.name for layer in multi.layers}
    sketches, photos = circle_pairs(2, 64)
    fine, coarse = multi([sketches, photos], training=False)
    assert (fine.shape, coarse.shape) == ((2, 6, 6, 1), (2, 2, 2, 1))
    # The coarse scale is a 32 px PatchGAN on the pair averaged over 2x2 blocks.
    half = build_discriminator(32, 4)
    for layer in half.layers:
        if layer.weights:
            layer.set_weights(multi.get_layer(f"scale1_{layer.name}").get_weights())
    for layer in single.layers:
        if layer.weights:
            layer.set_weights(multi.get_layer(layer.name).get_weights())

    def halve(images: np.ndarray) -> np.ndarray:
        return np.stack([cv2.resize(i, (32, 32), interpolation=cv2.INTER_AREA) for i in images])

    expected = half([halve(sketches), halve(photos)], training=False)
    np.testing.assert_allclose(coarse, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fine, single([sketches, photos], training=False), rtol=1e-5)
    with pytest.raises(ValueError, match="min 48"):
        build_discriminator(32, 4, scales=2)
    with pytest.raises(ValueError, match="scales must be 1 or more"):
        build_discriminator(64, 4, scales=0)


def test_each_discriminator_scale_counts_the_same_in_the_losses() -> None:
    sketches, photos = (tf.constant(a) for a in circle_pairs(2, 64))

    def make(scales: int) -> Pix2Pix:
        keras.utils.set_random_seed(0)
        model = Pix2Pix(build_generator(64, 4), build_discriminator(64, 4, scales=scales))
        model.compile(keras.optimizers.Adam(2e-3), keras.optimizers.Adam(2e-3))
        return model

    reference = make(2)
    fakes = reference.generator(sketches, training=True)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    real_fine, real_coarse = reference.discriminator([sketches, photos], training=True)
    fake_fine, fake_coarse = reference.discriminator([sketches, fakes], training=True)
    expected_g_gan = 0.5 * sum(float(bce(tf.ones_like(x), x)) for x in (fake_fine, fake_coarse))
    expected_d_loss = 0.25 * sum(
        float(bce(tf.ones_like(r), r)) + float(bce(tf.zeros_like(f), f))
        for r, f in ((real_fine, fake_fine), (real_coarse, fake_coarse))
    )
    result = {k: float(v) for k, v in make(2).train_step((sketches, photos)).items()}
    assert result["g_gan"] == pytest.approx(expected_g_gan, rel=1e-4)
    assert result["d_loss"] == pytest.approx(expected_d_loss, rel=1e-4)
    # feature matching compares both scales' blocks
    assert len(make(2).discriminator_features.model.outputs) == 2 * 4 + 2


def test_parameter_counts_are_the_tensorflow_tutorials_but_for_the_papers_choices(
    full_size,
) -> None:
    """Exactly the tutorial's counts (tools/benchmark/reference.py), apart from what the module
    docstring says differs: the 1x1 innermost encoder block has no normalisation (4 x 512 batch
    norm weights fewer) and so a bias (512 more), and a first conv without a norm after it has
    a bias (64 more in each network; the tutorial has none). 54.4M and 2.8M, as documented."""
    generator, discriminator = full_size
    assert generator.output_shape == (None, 256, 256, 3)
    assert discriminator.output_shape == (None, 30, 30, 1)
    innermost, first = 512, 64
    assert (
        generator.count_params() == TF_TUTORIAL_GENERATOR_PARAMS - 4 * innermost + innermost + first
    )
    assert discriminator.count_params() == TF_TUTORIAL_DISCRIMINATOR_PARAMS + first
    assert generator.count_params() == 54_424_387 and discriminator.count_params() == 2_770_497
    assert (round(generator.count_params(), -5), round(discriminator.count_params(), -5)) == (
        54_400_000, 2_800_000,
    )  # fmt: skip


def test_generator_filters_double_up_to_the_cap(full_size) -> None:
    def encoder_filters(model: keras.Model) -> list[int]:
        return [
            layer.filters
            for layer in model.layers
            if layer.name.startswith("down") and layer.name.endswith("_conv")
        ]

    assert encoder_filters(full_size[0]) == [64, 128, 256, 512, 512, 512, 512, 512]
    # max_filters is relative to 64 base filters: 512 * 8 // 64 = 64.
    assert encoder_filters(build_generator(32, 8)) == [8, 16, 32, 64, 64]


def test_dropout_only_in_the_first_three_decoder_blocks() -> None:
    generator = build_generator(64, 4)
    dropouts = [layer.name for layer in generator.layers if isinstance(layer, keras.layers.Dropout)]
    assert dropouts == ["up1_dropout", "up2_dropout", "up3_dropout"]
    assert not any(
        isinstance(layer, keras.layers.Dropout)
        for layer in build_generator(64, 4, dropout=0).layers
    )


def test_instance_normalization_uses_one_group_per_channel() -> None:
    generator = build_generator(SIZE, 4, normalization="instance")
    discriminator = build_discriminator(SIZE, 4, normalization="instance")
    for model in (generator, discriminator):
        norms = [
            layer for layer in model.layers if isinstance(layer, keras.layers.GroupNormalization)
        ]
        assert norms
        assert all(layer.groups == layer.input.shape[-1] for layer in norms)
        assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    sketches, photos = circle_pairs(1)
    assert np.isfinite(generator(sketches).numpy()).all()
    assert np.isfinite(discriminator([sketches, photos]).numpy()).all()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"image_size": 48},
        {"image_size": 16},
        {"normalization": "layer"},
        {"upsampling": "bilinear"},
    ],
)
def test_generator_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        build_generator(**{"base_filters": 4, **kwargs})


def test_resize_upsampling_replaces_every_transposed_convolution_under_the_same_names() -> None:
    transposed = build_generator(64, 4, normalization="instance", num_classes=2)
    resized = build_generator(64, 4, normalization="instance", num_classes=2, upsampling="resize")
    kinds = {type(layer).__name__ for layer in resized.layers}
    assert "Conv2DTranspose" not in kinds
    assert sum(isinstance(x, keras.layers.UpSampling2D) and x.name.endswith("_resize")
               for x in resized.layers) == 6  # fmt: skip
    assert sorted(x.name for x in resized.layers if x.name.endswith("_conv")) == sorted(
        x.name for x in transposed.layers if x.name.endswith("_conv")
    )
    sketch = np.zeros((1, 64, 64, 3), np.float32)
    out = resized([sketch, np.eye(2, dtype=np.float32)[[1]]]).numpy()
    assert out.shape == (1, 64, 64, 3) and np.isfinite(out).all()


def test_the_resnet_generator_keeps_the_size_and_runs_its_blocks_at_the_reduced_size() -> None:
    generator = build_resnet_generator(
        64, 4, blocks=3, downsamplings=2, normalization="instance", num_classes=2
    )
    adds = [layer for layer in generator.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 3  # one shortcut per residual block
    assert all(layer.output.shape == (None, 16, 16, 16) for layer in adds)  # 64 / 2**2, 4 * 2**2
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in generator.layers)
    sketch = np.ones((1, 64, 64, 3), np.float32)
    sketch[0, 20:44, 31:33] = -1.0
    output_conv = generator.get_layer("output_conv")
    output_conv.kernel.assign(output_conv.kernel * 60.0)  # spread the fresh output like a photo
    as_first, as_second = (
        generator([sketch, np.eye(2, dtype=np.float32)[[c]]]).numpy() for c in (0, 1)
    )
    assert as_first.shape == (1, 64, 64, 3) and np.isfinite(as_first).all()
    assert np.abs(as_first - as_second).mean() > 1e-3  # the category reaches the photo


@pytest.mark.parametrize(
    "kwargs",
    [
        {"downsamplings": 0},
        {"blocks": 0},
        {"image_size": 48, "downsamplings": 5},
        {"normalization": "layer"},
        {"upsampling": "bilinear"},
    ],
)
def test_the_resnet_generator_rejects_bad_arguments(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        build_resnet_generator(**{"image_size": 32, "base_filters": 4, **kwargs})


def test_a_few_steps_teach_the_resnet_generator_the_circles() -> None:
    keras.utils.set_random_seed(0)
    model = Pix2Pix(
        build_resnet_generator(SIZE, WIDTH, blocks=2, normalization="instance"),
        build_discriminator(SIZE, WIDTH),
    )
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    sketches, photos = circle_pairs(4)
    untrained_l1 = np.abs(model.generator(sketches).numpy() - photos).mean()
    data = dataset(sketches, photos, 4)
    history = model.fit(data.repeat(), steps_per_epoch=10, epochs=3, validation_data=data,
                        verbose=0).history  # fmt: skip
    assert all(np.isfinite(value) for values in history.values() for value in values)
    assert history["val_l1"][-1] < min(history["val_l1"][0], 0.3 * untrained_l1)


def test_discriminator_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        build_discriminator(SIZE, 4, normalization="spectral")
    with pytest.raises(ValueError):
        build_discriminator(16, 4)


def test_outputs_stay_float32_under_mixed_precision() -> None:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        generator = build_generator(SIZE, 4)
        discriminator = build_discriminator(SIZE, 4)
        sketches, photos = circle_pairs(1)
        assert generator(sketches).dtype == tf.float32
        assert discriminator([sketches, photos]).dtype == tf.float32
    finally:
        keras.config.set_dtype_policy(previous)


def test_a_few_steps_reduce_l1_and_losses_stay_finite(trained) -> None:
    _, history, _, _ = trained
    assert set(history) == {
        "g_loss",
        "g_gan",
        "g_l1",
        "g_perceptual",
        "g_feature_matching",
        "d_loss",
        "d_r1",
        "g_category",
        "critic_loss",
        "val_l1",
        "val_perceptual",
    }
    assert all(np.isfinite(value) for values in history.values() for value in values)
    assert history["g_l1"][-1] < 0.6 * history["g_l1"][0]
    assert history["val_l1"][-1] < 0.6 * history["val_l1"][0]
    # No perceptual loss configured: the term is reported as 0 in training and evaluation.
    assert history["g_perceptual"] == [0.0, 0.0, 0.0]
    assert history["g_feature_matching"] == [0.0, 0.0, 0.0]
    assert history["d_r1"] == [0.0, 0.0, 0.0]
    assert history["g_category"] == history["critic_loss"] == [0.0, 0.0, 0.0]  # no critic
    assert history["val_perceptual"] == [0.0, 0.0, 0.0]


def test_generator_in_inference_mode_after_training(trained) -> None:
    model, _, sketches, photos = trained
    generated = model.generator(sketches, training=False).numpy()
    assert np.isfinite(generated).all()
    assert generated.min() >= -1.0 and generated.max() <= 1.0
    assert generated.std() > 0.05
    # Moving statistics and no dropout: deterministic, and it has learnt something.
    np.testing.assert_array_equal(generated, model.predict(sketches, verbose=0))
    assert np.abs(generated - photos).mean() < 0.5


def test_perceptual_term_only_when_configured(perceptual: PerceptualLoss) -> None:
    sketches, photos = circle_pairs(2)
    batch = (tf.constant(sketches), tf.constant(photos))

    unweighted = make_model(perceptual, perceptual_weight=0.0)
    logs = {name: float(value) for name, value in unweighted.train_step(batch).items()}
    assert logs["g_perceptual"] == 0.0
    assert logs["g_loss"] == pytest.approx(logs["g_gan"] + 100.0 * logs["g_l1"], rel=1e-5)
    assert float(unweighted.test_step(batch)["perceptual"]) > 0.0  # still evaluated

    weighted = make_model(perceptual, perceptual_weight=0.5, run_eagerly=True)
    history = weighted.fit(
        dataset(sketches, photos, 2).repeat(),
        steps_per_epoch=2,
        epochs=1,
        validation_data=dataset(sketches, photos, 2),
        verbose=0,
    ).history
    logs = {name: values[0] for name, values in history.items()}
    assert logs["g_perceptual"] > 0.0
    assert logs["val_perceptual"] > 0.0
    expected = logs["g_gan"] + 100.0 * logs["g_l1"] + 0.5 * logs["g_perceptual"]
    assert logs["g_loss"] == pytest.approx(expected, rel=1e-4)


def test_pair_weights_scale_each_pairs_l1_term_and_the_report_stays_unweighted() -> None:
    sketches, photos = circle_pairs(2)
    batch = (tf.constant(sketches), tf.constant(photos))
    plain = {k: float(v) for k, v in make_model().train_step(batch).items()}
    # one pair at full weight, the other at none: the L1 term is half the first pair's L1
    weights = tf.constant([1.0, 0.0])
    weighted = {k: float(v) for k, v in make_model().train_step((*batch, weights)).items()}
    assert weighted["g_l1"] == pytest.approx(plain["g_l1"], rel=1e-5)  # same model, same step
    first_pair_l1 = float(
        tf.reduce_mean(tf.abs(photos[0] - make_model().generator(sketches, training=True)[0]))
    )
    assert weighted["g_loss"] == pytest.approx(
        weighted["g_gan"] + 100.0 * 0.5 * first_pair_l1, rel=1e-3
    )
    assert weighted["g_loss"] < plain["g_loss"]


def test_feature_matching_adds_the_discriminators_activation_distance_to_the_generator_only() -> (
    None
):
    sketches, photos = circle_pairs(2)
    batch = (tf.constant(sketches), tf.constant(photos))
    # The expected term, from the untrained networks the step starts from (same seed: same
    # weights and the same dropout draw as the step's own generator call).
    reference = make_model()
    discriminator = reference.discriminator
    names = [layer.name for layer in discriminator.layers if "lrelu" in layer.name]
    assert names == ["down1_lrelu", "down2_lrelu", "down3_lrelu", "conv4_lrelu"]
    hidden = keras.Model(discriminator.inputs, [discriminator.get_layer(n).output for n in names])
    sketches, photos = batch
    fakes = reference.generator(sketches, training=True)
    real_activations = hidden([sketches, photos], training=True)
    fake_activations = hidden([sketches, fakes], training=True)
    pairs = zip(real_activations, fake_activations, strict=True)
    expected = np.mean([float(tf.reduce_mean(tf.abs(r - f))) for r, f in pairs])

    plain_model, matched_model = make_model(), make_model(feature_matching_weight=10.0)
    plain = {k: float(v) for k, v in plain_model.train_step(batch).items()}
    matched = {k: float(v) for k, v in matched_model.train_step(batch).items()}
    assert plain["g_feature_matching"] == 0.0
    assert matched["g_feature_matching"] == pytest.approx(expected, rel=1e-3)
    assert matched["g_loss"] == pytest.approx(
        matched["g_gan"] + 100.0 * matched["g_l1"] + 10.0 * matched["g_feature_matching"],
        rel=1e-5,
    )
    # The discriminator's step is the plain one: the term reaches the generator only.
    assert_same_weights(plain_model.discriminator, matched_model.discriminator)
    assert_weights_differ(plain_model.generator, matched_model.generator)
    # The activations' model shares the discriminator's variables and adds none of its own.
    assert len(matched_model.weights) == len(matched_model.generator.weights) + len(
        matched_model.discriminator.weights
    )


def test_the_discriminator_sees_augmented_pairs_and_the_generator_stays_plain() -> None:
    sketches, photos = circle_pairs(4)
    losses = {}
    for augment in ((), ("colour", "translation", "cutout")):
        model = make_model(discriminator_augment=augment, feature_matching_weight=10.0)
        tf.random.set_seed(0)
        losses[augment] = model.train_step((tf.constant(sketches), tf.constant(photos)))
        assert model.generator(sketches).shape == photos.shape
    plain, augmented = losses.values()
    # the same networks and batch: only what the discriminator was shown differs
    assert float(plain["g_l1"]) == pytest.approx(float(augmented["g_l1"]), rel=1e-5)
    assert float(plain["d_loss"]) != pytest.approx(float(augmented["d_loss"]), rel=1e-3)
    assert np.isfinite(float(augmented["g_feature_matching"]))


def test_r1_penalises_the_discriminators_gradient_at_real_photos_and_only_its_step() -> None:
    sketches, photos = (tf.constant(a) for a in circle_pairs(2))
    # The expected penalty, from the untrained discriminator the step starts from.
    discriminator = make_model().discriminator
    with tf.GradientTape() as tape:
        tape.watch(photos)
        score = tf.reduce_sum(discriminator([sketches, photos], training=True))
    gradients = tape.gradient(score, photos).numpy()
    expected = float(np.mean(np.sum(gradients**2, axis=(1, 2, 3))))
    assert expected > 0

    plain_model, penalised_model = make_model(), make_model(r1_weight=10.0)
    plain = {k: float(v) for k, v in plain_model.train_step((sketches, photos)).items()}
    penalised = {k: float(v) for k, v in penalised_model.train_step((sketches, photos)).items()}
    assert plain["d_r1"] == 0.0
    assert penalised["d_r1"] == pytest.approx(expected, rel=1e-3)
    assert penalised["d_loss"] == pytest.approx(plain["d_loss"] + 5.0 * expected, rel=1e-4)
    # The penalty's gradient (a second derivative) moves the discriminator; the generator's
    # step is the plain one.
    assert_weights_differ(plain_model.discriminator, penalised_model.discriminator)
    assert_same_weights(plain_model.generator, penalised_model.generator)


@pytest.mark.parametrize("size", [64, 128])
def test_stroke_context_is_the_strokes_dilated_to_each_radius(size: int) -> None:
    generator = build_generator(size, 4, normalization="instance", stroke_context=True)
    rng = np.random.default_rng(size)
    sketches = np.ones((2, size, size, 3), np.float32)
    for sketch in sketches:  # a few random black strokes, as a sketch has
        for _ in range(3):
            x0, y0, x1, y1 = (int(v) for v in rng.integers(0, size, 4))
            cv2.line(sketch, (x0, y0), (x1, y1), (-1.0, -1.0, -1.0), 1)
    context = keras.Model(generator.inputs, generator.get_layer("stroke_context").output)
    channels = context.predict(sketches, verbose=0)
    np.testing.assert_array_equal(channels[..., :3], sketches)  # the sketch itself first
    scale = size / 128
    for sketch, got in zip(sketches, channels, strict=True):
        ink = (sketch[..., 0] < 0).astype(np.uint8)
        for i, radius in enumerate(STROKE_CONTEXT_RADII):
            side = 2 * max(1, round(radius * scale)) + 1
            expected = cv2.dilate(ink, np.ones((side, side), np.uint8)) * 2.0 - 1.0
            np.testing.assert_allclose(got[..., 3 + i], expected, atol=1e-6)


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if epoch == self.epoch:
            raise RuntimeError("simulated interruption")


class EpochRecorder(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []
        self.weights_at_begin: list[np.ndarray] = []
        self.g_iterations_at_begin = -1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if not self.epochs:
            self.weights_at_begin = self.model.generator.get_weights()
            self.weights_at_begin += self.model.discriminator.get_weights()
            self.g_iterations_at_begin = int(self.model.g_optimizer.iterations.numpy())
        self.epochs.append(epoch)


def test_backup_and_restore_resumes_an_interrupted_fit(tmp_path: Path) -> None:
    sketches, photos = circle_pairs(4)
    data = dataset(sketches, photos, 2)  # two steps per epoch
    backup_dir = tmp_path / "backup"

    interrupted = make_model(seed=1, run_eagerly=True)
    with pytest.raises(RuntimeError, match="simulated interruption"):
        interrupted.fit(
            data,
            epochs=2,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(backup_dir)), InterruptAt(1)],
        )
    assert (backup_dir / "latest.weights.h5").is_file()
    after_epoch_0 = interrupted.generator.get_weights() + interrupted.discriminator.get_weights()

    resumed = make_model(seed=2, run_eagerly=True)  # fresh weights and optimizers
    recorder = EpochRecorder()
    resumed.fit(
        data,
        epochs=2,
        verbose=0,
        callbacks=[keras.callbacks.BackupAndRestore(str(backup_dir)), recorder],
    )
    assert recorder.epochs == [1]
    assert recorder.g_iterations_at_begin == 2
    assert len(recorder.weights_at_begin) == len(after_epoch_0)
    for restored, saved in zip(recorder.weights_at_begin, after_epoch_0, strict=True):
        np.testing.assert_array_equal(restored, saved)
    assert not backup_dir.exists()  # a completed fit deletes its backup


class OptimizerStateRecorder(keras.callbacks.Callback):
    """The generator optimizer's variables (Adam's moments and, with use_ema, the average)."""

    def __init__(self) -> None:
        super().__init__()
        self.at_epoch_begin: dict[int, list[np.ndarray]] = {}
        self.at_epoch_end: dict[int, list[np.ndarray]] = {}

    def _state(self) -> list[np.ndarray]:
        return [np.array(v) for v in self.model.g_optimizer.variables]

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.at_epoch_begin[epoch] = self._state()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.at_epoch_end[epoch] = self._state()


def test_a_resumed_fit_continues_the_generators_moving_average(tmp_path: Path) -> None:
    """Without it the average would restart from zeros at full momentum after a resume."""
    sketches, photos = circle_pairs(4)
    data = dataset(sketches, photos, 2)
    backup_dir = tmp_path / "backup"
    interrupted, before = (
        make_model(seed=1, run_eagerly=True, generator_ema=0.9),
        OptimizerStateRecorder(),
    )
    with pytest.raises(RuntimeError, match="simulated interruption"):
        interrupted.fit(data, epochs=2, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(str(backup_dir)), before, InterruptAt(1),
        ])  # fmt: skip
    resumed, after = (
        make_model(seed=2, run_eagerly=True, generator_ema=0.9),
        OptimizerStateRecorder(),
    )
    resumed.fit(data, epochs=2, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(str(backup_dir)), after,
    ])  # fmt: skip
    saved, restored = before.at_epoch_end[0], after.at_epoch_begin[1]
    # Adam's iterations, learning rate, two moments per variable, and one average per variable
    n_generator_variables = len(resumed.generator.trainable_variables)
    assert len(restored) == 2 + 3 * n_generator_variables
    assert any(np.abs(v).max() > 0 for v in restored[-n_generator_variables:])
    for restored_value, saved_value in zip(restored, saved, strict=True):
        np.testing.assert_array_equal(restored_value, saved_value)


class RateRecorder(keras.callbacks.Callback):
    """The rate each optimizer trains with during an epoch (read after the schedule set it)."""

    def __init__(self) -> None:
        super().__init__()
        self.rates: dict[int, tuple[float, float]] = {}

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        g, d = self.model.g_optimizer, self.model.d_optimizer
        self.rates[len(self.rates)] = (float(g.learning_rate), float(d.learning_rate))


def test_linear_decay_holds_then_falls_for_both_optimizers_and_survives_a_resume(
    tmp_path: Path,
) -> None:
    sketches, photos = circle_pairs(4)
    data = dataset(sketches, photos, 4)  # one step per epoch: one recorded rate per epoch
    schedule = LinearLearningRateDecay(2e-3, epochs=6)
    assert [schedule.rate(e) for e in range(6)] == pytest.approx(
        [2e-3, 2e-3, 2e-3, 2e-3, 2e-3 * 2 / 3, 2e-3 / 3]
    )
    backup_dir = tmp_path / "backup"
    first = make_model(seed=1, run_eagerly=True)
    with pytest.raises(RuntimeError, match="simulated interruption"):
        first.fit(data, epochs=6, verbose=0, callbacks=[
            keras.callbacks.BackupAndRestore(str(backup_dir)), schedule, InterruptAt(4),
        ])  # fmt: skip
    resumed = make_model(seed=2, run_eagerly=True)
    recorder, logs = RateRecorder(), keras.callbacks.History()
    resumed.fit(data, epochs=6, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(str(backup_dir)),
        LinearLearningRateDecay(2e-3, epochs=6), recorder, logs,
    ])  # fmt: skip
    # Epochs 4 and 5 after the resume: on the same line as an uninterrupted run.
    assert [g for g, _ in recorder.rates.values()] == pytest.approx([2e-3 * 2 / 3, 2e-3 / 3])
    assert [d for _, d in recorder.rates.values()] == pytest.approx([2e-3 * 2 / 3, 2e-3 / 3])
    assert logs.history["learning_rate"] == pytest.approx([2e-3 * 2 / 3, 2e-3 / 3])


def test_linear_decay_keeps_the_discriminators_own_rate_in_proportion() -> None:
    sketches, photos = circle_pairs(4)
    recorder = RateRecorder()
    make_model(seed=1, run_eagerly=True).fit(
        dataset(sketches, photos, 4), epochs=6, verbose=0,
        callbacks=[LinearLearningRateDecay(2e-3, epochs=6, discriminator_rate=4e-3), recorder],
    )  # fmt: skip
    line = [1, 1, 1, 1, 2 / 3, 1 / 3]
    assert [g for g, _ in recorder.rates.values()] == pytest.approx([2e-3 * f for f in line])
    assert [d for _, d in recorder.rates.values()] == pytest.approx([4e-3 * f for f in line])


def test_spectral_norm_bounds_every_discriminator_kernel_under_bfloat16():
    keras.utils.set_random_seed(0)
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        discriminator = build_discriminator(SIZE, WIDTH, "instance", spectral_norm=True)
        model = Pix2Pix(build_generator(SIZE, WIDTH, normalization="instance"), discriminator)
        model.compile(
            g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
            d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        )
        sketches, photos = circle_pairs(4)
        history = model.fit(dataset(sketches, photos, 4).repeat(), steps_per_epoch=5, verbose=0)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    wrapped = [l for l in discriminator.layers if isinstance(l, keras.layers.SpectralNormalization)]  # noqa: E741
    # The three strided convs, conv4 and the logits: every convolution of the PatchGAN.
    assert [layer.layer.name for layer in wrapped] == [
        "down1_conv", "down2_conv", "down3_conv", "conv4", "logits",
    ]  # fmt: skip
    for layer in wrapped:
        kernel = keras.ops.convert_to_numpy(layer.layer.kernel)
        largest = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        # One power iteration per step: an estimate, close to 1 after a few steps.
        assert 0.8 < largest < 1.2, (layer.name, largest)
    assert all(math.isfinite(v) for v in history.history["d_loss"] + history.history["g_l1"])
    # The unwrapped PatchGAN keeps its kernels free (the default).
    plain = build_discriminator(SIZE, WIDTH, "instance")
    assert not any(isinstance(l, keras.layers.SpectralNormalization) for l in plain.layers)  # noqa: E741


def two_category_batch(n: int = 4) -> tuple[tuple[tf.Tensor, tf.Tensor], tf.Tensor]:
    """Circle pairs whose category (one-hot) is the disk's colour: red for 0, blue for 1."""
    sketches, photos = circle_pairs(n)
    labels = np.arange(n) % 2
    for photo, label in zip(photos, labels, strict=True):
        disk = photo[..., 0] < 1.0
        photo[disk] = (0.8, -0.8, -0.8) if label == 0 else (-0.8, -0.8, 0.8)
    categories = np.eye(2, dtype="float32")[labels]
    return (tf.constant(sketches), tf.constant(categories)), tf.constant(photos)


def make_class_aware_model(category_weight: float = 0.0, seed: int = 0) -> Pix2Pix:
    keras.utils.set_random_seed(seed)
    generator = build_generator(SIZE, WIDTH, normalization="instance", num_classes=2)
    discriminator = build_discriminator(SIZE, WIDTH, normalization="instance", num_classes=2)
    # built last, so the two networks start from the same weights with or without it
    critic = build_category_critic(SIZE, 2, WIDTH) if category_weight > 0 else None
    model = Pix2Pix(generator, discriminator, category_critic=critic)
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        category_weight=category_weight,
        critic_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5) if critic else None,
    )
    return model


def test_the_category_critic_classifies_the_photo_alone() -> None:
    critic = build_category_critic(64, 3, 4)
    assert [tuple(i.shape) for i in critic.inputs] == [(None, 64, 64, 3)]  # no sketch, no category
    logits = critic(np.zeros((2, 64, 64, 3), "float32"))
    assert logits.shape == (2, 3) and logits.dtype == "float32"
    with pytest.raises(ValueError, match="2 or more categories.*category_critic_weight: 0"):
        build_category_critic(64, 1, 4)


def test_the_category_critic_learns_the_real_photos_and_asks_the_generator_for_the_category() -> (
    None
):
    (sketches, categories), photos = batch = two_category_batch()
    # The expected terms, from the untrained networks the step starts from (same seed: same
    # weights and the same dropout draw as the step's own generator call).
    reference = make_class_aware_model(category_weight=2.0)
    fakes = reference.generator([sketches, categories], training=True)

    def cross_entropy(images: tf.Tensor) -> float:
        probabilities = tf.nn.softmax(reference.category_critic(images)).numpy()
        return float(-np.mean(np.log(np.sum(probabilities * categories.numpy(), axis=1))))

    expected_critic, expected_generator = cross_entropy(photos), cross_entropy(fakes)

    plain_model, critic_model = make_class_aware_model(), make_class_aware_model(2.0)
    untrained_critic = critic_model.category_critic.get_weights()
    plain = {k: float(v) for k, v in plain_model.train_step(batch).items()}
    judged = {k: float(v) for k, v in critic_model.train_step(batch).items()}
    assert plain["g_category"] == plain["critic_loss"] == 0.0
    assert judged["critic_loss"] == pytest.approx(expected_critic, rel=1e-4)
    assert judged["g_category"] == pytest.approx(expected_generator, rel=1e-3)
    assert judged["g_loss"] == pytest.approx(
        judged["g_gan"] + 100.0 * judged["g_l1"] + 2.0 * judged["g_category"], rel=1e-5
    )
    # The critic learnt; the discriminator's step is the plain one; the generator's is not.
    assert any(
        not np.allclose(before, after)
        for before, after in zip(
            untrained_critic, critic_model.category_critic.get_weights(), strict=True
        )
    )
    assert_same_weights(plain_model.discriminator, critic_model.discriminator)
    assert_weights_differ(plain_model.generator, critic_model.generator)


def test_the_category_critic_tells_the_categories_apart_within_a_few_steps() -> None:
    model = make_class_aware_model(category_weight=1.0)
    (sketches, categories), photos = two_category_batch(8)
    data = tf.data.Dataset.from_tensors(((sketches, categories), photos)).repeat()
    history = model.fit(data, steps_per_epoch=10, epochs=5, verbose=0).history
    # instance norm takes each photo's mean colour away: it learns from the disk's edge
    assert history["critic_loss"][-1] < 0.6 * history["critic_loss"][0]
    guesses = np.argmax(model.category_critic(photos).numpy(), axis=1)
    np.testing.assert_array_equal(guesses, np.argmax(categories.numpy(), axis=1))


def test_a_category_weight_needs_a_class_aware_generator_and_a_critic() -> None:
    plain = Pix2Pix(build_generator(SIZE, WIDTH), build_discriminator(SIZE, WIDTH))
    with pytest.raises(ValueError, match="class-aware generator, a category_critic"):
        plain.compile(
            g_optimizer=keras.optimizers.Adam(),
            d_optimizer=keras.optimizers.Adam(),
            category_weight=1.0,
            critic_optimizer=keras.optimizers.Adam(),
        )
    with pytest.raises(ValueError, match="category_weight must be >= 0"):
        plain.compile(
            g_optimizer=keras.optimizers.Adam(),
            d_optimizer=keras.optimizers.Adam(),
            category_weight=-1.0,
        )


def test_the_category_critic_is_saved_with_the_model_and_learns_at_the_discriminators_rate(
    tmp_path: Path,
) -> None:
    model = make_class_aware_model(category_weight=1.0)
    # its weights and its optimizer's state are the model's, so a backup holds them
    networks = (model.generator, model.discriminator, model.category_critic)
    assert len(model.weights) == sum(len(network.weights) for network in networks)
    (sketches, categories), photos = two_category_batch(4)
    data = tf.data.Dataset.from_tensors(((sketches, categories), photos))
    model.fit(
        data, epochs=6, verbose=0,
        callbacks=[LinearLearningRateDecay(2e-3, epochs=6, discriminator_rate=4e-3)],
    )  # fmt: skip
    rates = [float(o.learning_rate.numpy()) for o in (model.d_optimizer, model.critic_optimizer)]
    assert rates == pytest.approx([4e-3 / 3, 4e-3 / 3])
    model.save_weights(tmp_path / "model.weights.h5")
    restored = make_class_aware_model(category_weight=1.0, seed=1)
    restored.load_weights(tmp_path / "model.weights.h5")
    for saved, loaded in zip(
        model.category_critic.get_weights(), restored.category_critic.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(saved, loaded)
