"""VGG16 weights resolution (offline), feature extraction and the perceptual loss."""

from __future__ import annotations

import logging
import shutil
import socket
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.models import (
    DEFAULT_FEATURE_LAYERS,
    VGG_NOTOP_FILE,
    PerceptualLoss,
    VggWeights,
    VggWeightsUnavailable,
    build_vgg16_features,
    resolve_vgg_weights,
)
from sketch_to_photo.models import perceptual as perceptual_module
from sketch_to_photo.models.perceptual import VggPreprocess

# Keras' weight saving under NumPy 2 (not this code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SIZE = 32
RANDOM = VggWeights(None, "random", "test")


def closed_port_url() -> str:
    """A URL on 127.0.0.1 whose port nothing listens on: connecting fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{VGG_NOTOP_FILE}"


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty Keras cache and an unreachable download URL; returns the cache's weights path."""
    keras_home = tmp_path / "keras_home"
    keras_home.mkdir()
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setattr(perceptual_module, "VGG_NOTOP_URL", closed_port_url())
    return keras_home / "models" / VGG_NOTOP_FILE


@pytest.fixture(scope="module")
def saved_vgg(tmp_path_factory: pytest.TempPathFactory) -> tuple[keras.Model, Path]:
    """A randomly initialised VGG16 (no top) and its weights file."""
    keras.utils.set_random_seed(3)
    model = keras.applications.VGG16(weights=None, include_top=False)
    # Keras 3 save_weights wants the ".weights.h5" suffix.
    path = tmp_path_factory.mktemp("vgg") / "x.weights.h5"
    model.save_weights(path)
    return model, path


@pytest.fixture(scope="module")
def features() -> keras.Model:
    keras.utils.set_random_seed(4)
    return build_vgg16_features(RANDOM, image_size=SIZE)


def images(n: int, seed: int, size: int = SIZE) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (n, size, size, 3)).astype("float32")


def test_none_means_random_weights() -> None:
    weights = resolve_vgg_weights("none")
    assert weights.keras_weights is None
    assert weights.source == "random"


def test_imagenet_offline_fails_fast_with_instructions(offline: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(VggWeightsUnavailable) as raised:
        resolve_vgg_weights("imagenet")
    # within the one connection attempt's timeout: no retries, no waiting out urlretrieve
    assert time.perf_counter() - started < perceptual_module.CONNECT_TIMEOUT_S
    message = str(raised.value)
    assert "could not be downloaded" in message
    assert "Connection" in message  # the reason
    assert str(offline) in message
    assert VGG_NOTOP_FILE in message
    assert "58,889,256 bytes" in message
    assert "6d6bbae143d832006294945121d1f1fc" in message
    assert "'auto'" in message and "'none'" in message and "local weights file" in message
    assert not offline.exists()


def test_auto_offline_falls_back_to_random(offline: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        weights = resolve_vgg_weights("auto")
    assert weights.keras_weights is None
    assert weights.source == "random"
    assert "fell back to random" in weights.note
    assert any("fell back to random" in record.getMessage() for record in caplog.records)


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "vgg.weights.h5"
    with pytest.raises(VggWeightsUnavailable, match=str(missing)):
        resolve_vgg_weights(str(missing))


def test_weights_from_a_file_are_loaded(saved_vgg: tuple[keras.Model, Path]) -> None:
    model, path = saved_vgg
    weights = resolve_vgg_weights(str(path))
    assert weights.source == "file"
    assert weights.keras_weights == str(path.resolve())

    loaded = build_vgg16_features(weights, image_size=SIZE)
    reference = keras.Model(
        model.input, [model.get_layer(name).output for name in DEFAULT_FEATURE_LAYERS]
    )
    x = images(2, seed=0)
    expected = reference(keras.applications.vgg16.preprocess_input((x + 1.0) * 127.5))
    for got, want in zip(loaded(x), expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-3)


def test_imagenet_from_the_keras_cache_needs_no_network(
    offline: Path, saved_vgg: tuple[keras.Model, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    offline.parent.mkdir(parents=True)
    shutil.copy(saved_vgg[1], offline)

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    for option in ("imagenet", "auto"):
        weights = resolve_vgg_weights(option)
        assert weights.source == "imagenet"
        assert weights.keras_weights == str(offline)


def test_preprocessing_matches_keras_vgg16_preprocess_input() -> None:
    x = images(3, seed=1)
    expected = keras.applications.vgg16.preprocess_input((x + 1.0) * 127.5)
    got = VggPreprocess()(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("size", [32, 64])
def test_feature_shapes(size: int) -> None:
    model = build_vgg16_features(RANDOM, image_size=size)
    outputs = model(images(2, seed=2, size=size))
    shapes = [tuple(output.shape) for output in outputs]
    assert shapes == [
        (2, size, size, 64),
        (2, size // 2, size // 2, 128),
        (2, size // 4, size // 4, 256),
        (2, size // 8, size // 8, 512),
    ]


def test_features_are_frozen_and_serializable(features: keras.Model, tmp_path: Path) -> None:
    assert features.trainable_weights == []
    assert "block5_conv1" not in [
        layer.name for layer in features.get_layer("vgg16_extractor").layers
    ]
    path = tmp_path / "features.keras"
    features.save(path)
    reloaded = keras.saving.load_model(path)  # safe mode: no Python lambdas inside
    x = images(1, seed=3)
    for got, want in zip(reloaded(x), features(x), strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-4)


def test_unknown_layer_is_rejected() -> None:
    with pytest.raises(ValueError, match="not VGG16 layers"):
        build_vgg16_features(RANDOM, ("block1_conv2", "block9_conv9"), SIZE)


def test_perceptual_loss_is_zero_only_for_identical_images(features: keras.Model) -> None:
    loss = PerceptualLoss(features)
    real, fake = images(3, seed=4), images(3, seed=5)
    assert float(loss(real, real)) == 0.0
    assert float(loss(real, fake)) > 0.0
    distances = loss.distance(real, fake)
    assert distances.shape == (3,)
    assert np.all(distances.numpy() > 0)
    assert float(loss(real, fake)) == pytest.approx(float(np.mean(distances.numpy())), rel=1e-6)


def test_layer_weights_must_match_the_layers(features: keras.Model) -> None:
    with pytest.raises(ValueError):
        PerceptualLoss(features, layer_weights=[1.0, 1.0])
    only_first = PerceptualLoss(features, layer_weights=[1.0, 0.0, 0.0, 0.0])
    real, fake = images(2, seed=6), images(2, seed=7)
    first = features(real)[0] - features(fake)[0]
    assert float(only_first(real, fake)) == pytest.approx(
        float(tf.reduce_mean(tf.abs(first))), rel=1e-5
    )


def test_gradients_flow_to_the_fake_images(features: keras.Model) -> None:
    loss = PerceptualLoss(features)
    real = tf.constant(images(2, seed=8))
    fake = tf.Variable(images(2, seed=9))
    with tf.GradientTape() as tape:
        value = loss(real, fake)
    gradient = tape.gradient(value, fake)
    assert gradient is not None
    assert float(tf.reduce_sum(tf.abs(gradient))) > 0.0
