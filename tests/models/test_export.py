"""ONNX export: the ONNX Runtime model matches Keras, bf16-trained weights and batch norm
included (the export must run in inference mode, with the moving statistics)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sketch_to_photo.models import build_generator, build_resnet_generator
from sketch_to_photo.models.classifier import build_small_classifier
from sketch_to_photo.models.export import export_onnx, float32_copy
from sketch_to_photo.prediction.onnx_runtime import OnnxModel

# The README's parity figures ("ONNX" section). Same-weights float32 Keras vs ONNX Runtime:
# rounding only, "less than 1e-4" (measured here: under 1e-6).
FLOAT32_TOLERANCE = 1e-4
# A bf16-computing Keras model vs its float32 export, in [-1, 1] units: bf16 has an 8-bit
# mantissa, so on average under one bf16 step at 1.0 (2**-8). The README quotes the trained
# cpu_real generator (64 px): at most 0.035, on average 0.0017. The test's generator, scaled to
# a photo's range, gives about 0.008 and 0.0011 on CPUs with bf16 instructions, 0.024 and
# 0.0017 on an AVX2-only CPU, where TensorFlow emulates bf16; an export that used the batch's
# statistics instead of the moving ones is off by 0.77 on average.
BF16_MAX, BF16_MEAN = 0.035, 2**-8
# A freshly initialised generator's tanh output stays within about +-0.02 (std 0.008), where
# any export would be within the tolerances: the test scales the output layer so that the
# generated images spread like photos (std about 0.4).
OUTPUT_SCALE, PHOTO_LIKE_STD = 60.0, 0.3


def _move_batch_norm_statistics(model: keras.Model, inputs: list[np.ndarray] | np.ndarray) -> None:
    """Calls in training mode update the moving statistics away from their 0/1 start, so an
    export that used batch statistics (or the defaults) would not match."""
    for _ in range(3):
        model(inputs, training=True)


@pytest.fixture
def bf16_policy():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_class_aware_bf16_generator_exports_and_matches(tmp_path, bf16_policy):
    keras.utils.set_random_seed(1)
    generator = build_generator(32, 8, normalization="batch", num_classes=3)
    rng = np.random.default_rng(0)
    sketches = rng.uniform(-1, 1, (4, 32, 32, 3)).astype(np.float32)
    categories = np.eye(3, dtype=np.float32)[[0, 1, 2, 1]]
    _move_batch_norm_statistics(generator, [sketches, categories])
    output_conv = generator.get_layer("output_conv")
    output_conv.kernel.assign(output_conv.kernel * OUTPUT_SCALE)
    keras.mixed_precision.set_global_policy("float32")

    onnx = OnnxModel(export_onnx(generator, tmp_path / "generator.onnx"))
    assert [spec.name for spec in onnx.inputs] == ["sketch", "category"]
    assert onnx.inputs[0].shape == (None, 32, 32, 3) and onnx.inputs[1].shape == (None, 3)
    got = onnx.predict_on_batch([sketches, categories])
    as_float32 = float32_copy(generator).predict_on_batch([sketches, categories])
    as_trained = np.asarray(generator.predict_on_batch([sketches, categories]), np.float32)
    assert as_trained.std() > PHOTO_LIKE_STD  # the tolerances below are not vacuous
    assert np.abs(got - as_float32).max() < FLOAT32_TOLERANCE
    difference = np.abs(got - as_trained)
    assert difference.max() < BF16_MAX and difference.mean() < BF16_MEAN
    # the category input is live in the export: another category, another photo
    other = onnx.predict_on_batch([sketches, np.eye(3, dtype=np.float32)[[2, 2, 0, 0]]])
    assert np.abs(other - got).max() > 1e-3


def test_classifier_with_augmentation_layers_exports_in_inference_mode(tmp_path):
    keras.utils.set_random_seed(2)
    classifier = build_small_classifier(4, image_size=32, widths=(8, 16), augment=True)
    images = np.random.default_rng(1).uniform(-1, 1, (5, 32, 32, 3)).astype(np.float32)
    _move_batch_norm_statistics(classifier, images)

    path = export_onnx(classifier, tmp_path / "nested" / "classifier.onnx")
    assert path.is_file() and not list(path.parent.glob(".*"))  # no temporary left behind
    got = OnnxModel(path).predict_on_batch(images)
    np.testing.assert_allclose(got, classifier.predict_on_batch(images), atol=FLOAT32_TOLERANCE)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)


def test_onnx_model_checks_its_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        OnnxModel(tmp_path / "missing.onnx")
    keras.utils.set_random_seed(3)
    generator = build_generator(32, 8, normalization="instance", num_classes=2)
    onnx = OnnxModel(export_onnx(generator, tmp_path / "generator.onnx"))
    with pytest.raises(ValueError, match="takes 2 inputs, got 1"):
        onnx.predict_on_batch(np.zeros((1, 32, 32, 3), np.float32))


@pytest.mark.parametrize(
    "build",
    [
        # the resize decoder: nearest doubling and a 3x3 convolution
        lambda: build_generator(
            32, 8, normalization="instance", num_classes=2, upsampling="resize"
        ),
        # pix2pix's ResNet generator: residual blocks, 7x7 convolutions
        lambda: build_resnet_generator(32, 8, blocks=2, normalization="instance", num_classes=2),
    ],
    ids=["resize_upsampling", "resnet"],
)
def test_other_generator_layers_export_and_match(tmp_path, build):
    """The other generators' layers go through ONNX like the U-Net's: same outputs, category
    live."""
    keras.utils.set_random_seed(4)
    generator = build()
    rng = np.random.default_rng(3)
    sketches = rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    categories = np.eye(2, dtype=np.float32)[[0, 1, 1]]
    output_conv = generator.get_layer("output_conv")
    output_conv.kernel.assign(output_conv.kernel * OUTPUT_SCALE)
    onnx = OnnxModel(export_onnx(generator, tmp_path / "generator.onnx"))
    got = onnx.predict_on_batch([sketches, categories])
    expected = np.asarray(generator.predict_on_batch([sketches, categories]), np.float32)
    assert expected.std() > PHOTO_LIKE_STD
    assert np.abs(got - expected).max() < FLOAT32_TOLERANCE


def test_stroke_context_generator_exports_and_matches(tmp_path):
    """The dilated strokes (max pooling) go through ONNX like the rest."""
    keras.utils.set_random_seed(5)
    generator = build_generator(64, 8, normalization="instance", num_classes=2, stroke_context=True)
    sketches = np.ones((2, 64, 64, 3), np.float32)
    sketches[0, 30:32, 10:50] = -1.0
    sketches[1, 8:56, 40:42] = -1.0
    categories = np.eye(2, dtype=np.float32)
    output_conv = generator.get_layer("output_conv")
    output_conv.kernel.assign(output_conv.kernel * OUTPUT_SCALE)
    onnx = OnnxModel(export_onnx(generator, tmp_path / "generator.onnx"))
    got = onnx.predict_on_batch([sketches, categories])
    expected = np.asarray(generator.predict_on_batch([sketches, categories]), np.float32)
    assert expected.std() > PHOTO_LIKE_STD / 3  # a sparse sketch: much of the frame is paper
    assert np.abs(got - expected).max() < FLOAT32_TOLERANCE
