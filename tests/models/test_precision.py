"""Precision policies: choosing one, wrapping optimizers, and pix2pix training under them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.models import (
    PerceptualLoss,
    Pix2Pix,
    VggWeights,
    build_discriminator,
    build_generator,
    build_vgg16_features,
    precision,
)
from sketch_to_photo.models.precision import (
    cpu_flags,
    resolve_precision,
    set_precision_policy,
    wrap_optimizer,
)
from tests.models.test_pix2pix import circle_pairs

SIZE = 32
WIDTH = 8


@pytest.fixture(autouse=True)
def float32_afterwards() -> Iterator[None]:
    """Each test may change the global policy; the next test must start from float32."""
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("name", ["float32", "mixed_bfloat16", "mixed_float16", " Float32 "])
def test_explicit_policies_are_applied_as_named(name: str) -> None:
    applied = set_precision_policy(name)
    assert applied == name.strip().lower()
    assert keras.mixed_precision.global_policy().name == applied


@pytest.mark.parametrize("name", ["bf16", "float16", "", "mixed"])
def test_unknown_names_are_refused_with_the_choices(name: str) -> None:
    with pytest.raises(ValueError, match="auto, float32, mixed_bfloat16, mixed_float16"):
        set_precision_policy(name)
    assert keras.mixed_precision.global_policy().name == "float32"  # unchanged


def test_auto_follows_the_hardware(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(precision, "has_gpu", lambda: True)
    assert resolve_precision("auto") == "mixed_float16"
    monkeypatch.setattr(precision, "has_gpu", lambda: False)
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto") == "mixed_bfloat16"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto") == "float32"


X86_FLAGS = "fpu sse2 avx2 avx512f"


@pytest.mark.parametrize(
    ("system", "gpus", "cpuinfo", "expected"),
    [
        ("Linux", 0, f"flags\t\t: {X86_FLAGS} avx512_bf16\n", "mixed_bfloat16"),
        ("Linux", 0, f"flags\t\t: {X86_FLAGS} amx_bf16 amx_tile\n", "mixed_bfloat16"),
        ("Linux", 0, f"flags\t\t: {X86_FLAGS} avx512_vnni\n", "float32"),  # no bf16
        ("Linux", 1, f"flags\t\t: {X86_FLAGS}\n", "mixed_float16"),
        ("Linux", 1, f"flags\t\t: {X86_FLAGS} avx512_bf16\n", "mixed_float16"),  # GPU first
        ("Darwin", 0, f"flags\t\t: {X86_FLAGS} avx512_bf16\n", "float32"),  # Linux only
        ("Linux", 0, None, "float32"),  # no /proc/cpuinfo: the safe choice
    ],
    ids=["avx512_bf16", "amx_bf16", "no-bf16", "gpu", "gpu-and-bf16", "macos", "no-cpuinfo"],
)
def test_auto_on_a_machine_with(  # noqa: PLR0913
    system: str,
    gpus: int,
    cpuinfo: str | None,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``auto`` from the machine's own answers (the OS, TensorFlow's GPU list, /proc/cpuinfo),
    each faked where the project reads it, to the policy the module's rule promises."""
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(f"processor\t: 0\nvendor_id\t: test\n{cpuinfo}\n")
    monkeypatch.setattr(precision, "CPUINFO", path)
    monkeypatch.setattr(precision.platform, "system", lambda: system)
    devices = [tf.config.PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(gpus)]
    monkeypatch.setattr(
        tf.config, "list_physical_devices", lambda kind=None: devices if kind == "GPU" else []
    )
    assert set_precision_policy("auto") == expected
    assert keras.mixed_precision.global_policy().name == expected


def test_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n\n")
    assert {"avx512_bf16", "sse2"} <= cpu_flags(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2\n")
    assert not cpu_flags(cpuinfo) & precision.BF16_CPU_FLAGS
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_only_float16_wraps_the_optimizer() -> None:
    adam = keras.optimizers.Adam(2e-4)
    assert wrap_optimizer(adam, "float32") is adam
    assert wrap_optimizer(adam, "mixed_bfloat16") is adam
    wrapped = wrap_optimizer(adam, "mixed_float16")
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert wrap_optimizer(wrapped, "mixed_float16") is wrapped  # not wrapped twice
    with pytest.raises(ValueError, match="unknown policy 'auto'"):
        wrap_optimizer(adam, "auto")


def train_under(policy_name: str, perceptual: bool = False) -> tuple[Pix2Pix, list[float]]:
    """A tiny pix2pix built and fit for 3 short epochs under ``policy_name``."""
    policy = set_precision_policy(policy_name)
    keras.utils.set_random_seed(0)
    features = None
    if perceptual:
        features = PerceptualLoss(
            build_vgg16_features(VggWeights(None, "random", "test"), ["block1_conv2"], SIZE)
        )
    model = Pix2Pix(build_generator(SIZE, WIDTH), build_discriminator(SIZE, WIDTH), features)
    model.compile(
        g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-3, beta_1=0.5), policy),
        d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-3, beta_1=0.5), policy),
        perceptual_weight=0.1 if perceptual else 0.0,
    )
    sketches, photos = circle_pairs(4)
    data = tf.data.Dataset.from_tensor_slices((sketches, photos)).batch(4).repeat()
    history = model.fit(data, steps_per_epoch=8, epochs=3, verbose=0).history
    for name, values in history.items():
        assert all(math.isfinite(v) for v in values), f"{name} not finite: {values}"
    return model, history["g_l1"]


@pytest.mark.parametrize("policy_name", ["mixed_bfloat16", "mixed_float16"])
def test_pix2pix_trains_under_mixed_precision(policy_name: str) -> None:
    model, l1 = train_under(policy_name)
    assert l1[-1] < l1[0], f"L1 did not fall under {policy_name}: {l1}"
    compute = policy_name.removeprefix("mixed_")
    # The heavy layers compute in the low precision; outputs and weights stay float32.
    assert model.generator.get_layer("down2_conv").compute_dtype == compute
    assert model.generator.get_layer("down2_conv").kernel.dtype == "float32"
    sketches, photos = circle_pairs(2)
    assert model.generator(sketches).dtype == tf.float32
    assert model.discriminator([sketches, photos]).dtype == tf.float32


def test_perceptual_loss_works_under_bfloat16() -> None:
    model, l1 = train_under("mixed_bfloat16", perceptual=True)
    sketches, photos = circle_pairs(2)
    distance = model.perceptual.distance(photos, model.generator(sketches))
    assert distance.dtype == tf.float32
    assert np.all(np.isfinite(distance.numpy())) and np.all(distance.numpy() > 0)
