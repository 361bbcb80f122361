"""VGG16 features and a perceptual (feature-space L1) loss.

Images come in as float32 RGB in [-1, 1]. :class:`VggPreprocess` turns them into what VGG16
was trained on (``keras.applications.vgg16.preprocess_input`` of 0..255 RGB: BGR order minus
the ImageNet channel means), so every model here takes the same input as the generator.

ImageNet weights are optional. :func:`resolve_vgg_weights` decides where they come from
(``"imagenet"``, ``"auto"``, ``"none"`` or a local file) and says so in a :class:`VggWeights`;
offline, ``"imagenet"`` fails within seconds with instructions instead of hanging in a download.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import tensorflow as tf
from keras import ops

logger = logging.getLogger(__name__)

VGG_NOTOP_FILE = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG_NOTOP_URL = (
    f"https://storage.googleapis.com/tensorflow/keras-applications/vgg16/{VGG_NOTOP_FILE}"
)
VGG_NOTOP_BYTES = 58_889_256
VGG_NOTOP_MD5 = "6d6bbae143d832006294945121d1f1fc"
DEFAULT_FEATURE_LAYERS = ("block1_conv2", "block2_conv2", "block3_conv3", "block4_conv3")
# Seconds allowed for each of name resolution and the TCP connect before a download is tried.
CONNECT_TIMEOUT_S = 3.0
IMAGENET_BGR_MEANS = (103.939, 116.779, 123.68)
_WEIGHT_SUFFIXES = (".h5", ".hdf5", ".keras", ".weights.json")


class VggWeightsUnavailable(RuntimeError):
    """The requested VGG16 weights cannot be had (offline, or a missing file)."""


@dataclass(frozen=True)
class VggWeights:
    """Where VGG16's weights come from."""

    keras_weights: str | None  # `weights=` for keras.applications.VGG16: a file path or None
    source: str  # "imagenet" | "file" | "random"
    note: str


def keras_cache_path(filename: str = VGG_NOTOP_FILE, cache_subdir: str = "models") -> Path:
    """Where ``keras.utils.get_file`` keeps ``filename``, with ``KERAS_HOME`` read now.

    Keras reads ``KERAS_HOME`` once at import; reading it here lets a caller (or a test) change
    it later. The fallbacks to ``/tmp/.keras`` copy ``get_file``'s.
    """
    if "KERAS_HOME" in os.environ:
        home = os.environ["KERAS_HOME"]
    else:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    home = os.path.expanduser(home)
    if not os.access(home, os.W_OK):
        home = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(home) / cache_subdir / filename


def check_reachable(url: str, timeout: float) -> None:
    """Raise OSError unless a TCP connection to ``url``'s host opens within ``timeout``.

    ``urlretrieve`` has no timeout and ``getaddrinfo`` none at all, so offline a download can
    hang for minutes; resolving in a daemon thread bounds the DNS step too.
    """
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    result: dict[str, object] = {}

    def resolve() -> None:
        try:
            result["addresses"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            result["error"] = error

    worker = threading.Thread(target=resolve, daemon=True)
    worker.start()
    worker.join(timeout)
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    if "addresses" not in result:
        raise TimeoutError(f"resolving {host} took more than {timeout:g} s")
    last_error: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _, address in result["addresses"]:  # type: ignore[union-attr]
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
                return
        except OSError as error:
            last_error = error
    raise last_error


def _unavailable_message(reason: str, cache_path: Path) -> str:
    return (
        f"VGG16 ImageNet weights are not in the Keras cache and could not be downloaded from "
        f"{VGG_NOTOP_URL} ({reason}). Either place the file {VGG_NOTOP_FILE} "
        f"({VGG_NOTOP_BYTES:,} bytes, MD5 {VGG_NOTOP_MD5}) at {cache_path}, or set the option "
        f"to the path of a local weights file, or to 'auto' (ImageNet when available, else "
        f"random) or 'none' (random weights)."
    )


def _imagenet_weights() -> VggWeights:
    cache_path = keras_cache_path()
    if cache_path.is_file():
        note = f"ImageNet weights from the Keras cache {cache_path}"
        if cache_path.stat().st_size != VGG_NOTOP_BYTES:
            note += f" (size differs from the official {VGG_NOTOP_BYTES:,} bytes)"
        return VggWeights(str(cache_path), "imagenet", note)
    try:
        check_reachable(VGG_NOTOP_URL, CONNECT_TIMEOUT_S)
        downloaded = keras.utils.get_file(
            VGG_NOTOP_FILE,
            VGG_NOTOP_URL,
            cache_subdir="models",
            file_hash=VGG_NOTOP_MD5,
            cache_dir=str(cache_path.parents[1]),
        )
    except Exception as error:  # get_file raises bare Exception for URL errors
        reason = f"{type(error).__name__}: {error}"
        raise VggWeightsUnavailable(_unavailable_message(reason, cache_path)) from error
    return VggWeights(str(downloaded), "imagenet", f"ImageNet weights downloaded to {downloaded}")


def resolve_vgg_weights(option: str) -> VggWeights:
    """Resolve a weights option: ``"imagenet"``, ``"auto"``, ``"none"`` or a file path.

    ``"imagenet"`` uses the Keras cache or downloads (raising :class:`VggWeightsUnavailable`
    with instructions when it cannot); ``"auto"`` falls back to random weights with a warning;
    a path must exist.
    """
    keyword = option.strip().lower()
    if keyword == "none":
        return VggWeights(None, "random", "random weights (option 'none')")
    if keyword == "imagenet":
        return _imagenet_weights()
    if keyword == "auto":
        try:
            return _imagenet_weights()
        except VggWeightsUnavailable as error:
            note = f"auto: ImageNet weights unavailable, fell back to random weights. {error}"
            logger.warning("%s", note)
            return VggWeights(None, "random", note)
    path = Path(option).expanduser()
    if not path.is_file():
        raise VggWeightsUnavailable(
            f"VGG16 weights file {path} does not exist (options: 'imagenet', 'auto', 'none' "
            f"or the path of an existing weights file)."
        )
    if not path.name.endswith(_WEIGHT_SUFFIXES):
        raise VggWeightsUnavailable(
            f"VGG16 weights file {path} must end with one of {', '.join(_WEIGHT_SUFFIXES)} "
            f"for keras.Model.load_weights."
        )
    return VggWeights(str(path.resolve()), "file", f"weights from {path.resolve()}")


@keras.saving.register_keras_serializable(package="sketch_to_photo")
class VggPreprocess(keras.layers.Layer):
    """RGB in [-1, 1] to VGG16's input: ``vgg16.preprocess_input((x + 1) * 127.5)``."""

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        x = (ops.cast(inputs, self.compute_dtype) + 1.0) * 127.5
        x = ops.flip(x, axis=-1)  # RGB -> BGR
        return x - ops.convert_to_tensor(IMAGENET_BGR_MEANS, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape


def build_vgg16_features(
    weights: VggWeights, layers: Sequence[str] = DEFAULT_FEATURE_LAYERS, image_size: int = 256
) -> keras.Model:
    """A frozen model: RGB [-1, 1] images -> a list of VGG16 activations at ``layers``."""
    layers = list(layers)
    if not layers:
        raise ValueError("at least one VGG16 feature layer is needed")
    if image_size < 32:
        raise ValueError(f"VGG16 needs images of at least 32 pixels, got {image_size}")
    vgg = keras.applications.VGG16(
        include_top=False, weights=weights.keras_weights, input_shape=(image_size, image_size, 3)
    )
    names = [layer.name for layer in vgg.layers]
    unknown = [name for name in layers if name not in names]
    if unknown:
        raise ValueError(f"not VGG16 layers: {unknown}; choose from {names[1:]}")
    # Only the layers up to the deepest requested one end up in the model.
    extractor = keras.Model(
        vgg.input, [vgg.get_layer(name).output for name in layers], name="vgg16_extractor"
    )
    inputs = keras.Input((image_size, image_size, 3), name="image")
    outputs = extractor(VggPreprocess(name="vgg_preprocess")(inputs))
    model = keras.Model(inputs, outputs, name="vgg16_features")
    model.trainable = False
    return model


class PerceptualLoss:
    """Mean absolute difference of VGG16 features of real and generated images.

    Each layer's term is the mean over its activations; layers are combined with
    ``layer_weights`` (default ``1 / len(layers)`` each, i.e. the mean over layers).
    Gradients flow to ``fake`` only.
    """

    def __init__(self, features: keras.Model, layer_weights: Sequence[float] | None = None) -> None:
        n_layers = len(features.outputs)
        if layer_weights is None:
            layer_weights = [1.0 / n_layers] * n_layers
        if len(layer_weights) != n_layers:
            raise ValueError(f"{len(layer_weights)} layer weights for {n_layers} feature layers")
        self.features = features
        self.layer_weights = tuple(float(w) for w in layer_weights)

    def distance(self, real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
        """Per-image perceptual distances, shape ``(N,)``."""
        real = ops.cast(real, "float32")
        fake = ops.cast(fake, "float32")
        n = ops.shape(real)[0]
        # One pass over both batches instead of two.
        features = self.features(ops.concatenate([real, fake], axis=0), training=False)
        if not isinstance(features, (list, tuple)):
            features = [features]
        total = ops.zeros((n,), dtype="float32")
        for weight, layer_features in zip(self.layer_weights, features, strict=True):
            both = ops.cast(layer_features, "float32")
            difference = ops.abs(ops.stop_gradient(both[:n]) - both[n:])
            total = total + weight * ops.mean(difference, axis=(1, 2, 3))
        return total

    def __call__(self, real: tf.Tensor, fake: tf.Tensor) -> tf.Tensor:
        """The mean of :meth:`distance` over the batch (a scalar)."""
        return ops.mean(self.distance(real, fake))
