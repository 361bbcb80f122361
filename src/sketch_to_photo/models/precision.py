"""Mixed precision: choose a Keras dtype policy for the hardware and wrap optimizers to match.

``auto`` picks what is fast without hurting training:

- a GPU: ``mixed_float16`` (tensor cores; needs loss scaling, see :func:`wrap_optimizer`);
- a CPU with native bfloat16 instructions (``avx512_bf16`` or ``amx_bf16``): ``mixed_bfloat16``
  (oneDNN runs bf16 convolutions about twice as fast as float32; same exponent range as
  float32, so no loss scaling);
- anything else: ``float32`` (emulated bf16 would be slower than float32).

Models must be built *after* the policy is set: a layer takes the global policy when it is
created. The project's models keep their last activation (tanh, logits) in float32, and the
losses are computed in float32.
"""

from __future__ import annotations

import logging
import platform
from pathlib import Path

import keras
import tensorflow as tf

logger = logging.getLogger(__name__)

POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
CHOICES = ("auto", *POLICIES)
# CPU flags (as in Linux /proc/cpuinfo) that mean bfloat16 arithmetic in hardware.
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The CPU feature flags from ``cpuinfo`` (Linux); empty when they cannot be read."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:  # not Linux, or /proc not mounted: be conservative
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86 / ARM spelling
            return frozenset(value.split())
    return frozenset()


def cpu_has_native_bf16(cpuinfo: Path | None = None) -> bool:
    """True when the CPU computes bfloat16 in hardware (so ``mixed_bfloat16`` pays off).

    ``cpuinfo`` defaults to :data:`CPUINFO`, read when called."""
    if platform.system() != "Linux":
        return False  # no reliable flag source elsewhere; float32 is the safe choice
    return bool(cpu_flags(CPUINFO if cpuinfo is None else cpuinfo) & BF16_CPU_FLAGS)


def has_gpu() -> bool:
    return bool(tf.config.list_physical_devices("GPU"))


def resolve_precision(name: str) -> str:
    """The Keras policy name that ``name`` (one of :data:`CHOICES`) means on this machine."""
    if not isinstance(name, str) or name.strip().lower() not in CHOICES:
        raise ValueError(
            f"unknown precision {name!r}: use one of {', '.join(CHOICES)} "
            "('auto' picks mixed_float16 on a GPU, mixed_bfloat16 on a CPU with bf16, "
            "float32 otherwise)"
        )
    name = name.strip().lower()
    if name != "auto":
        return name
    if has_gpu():
        return "mixed_float16"
    if cpu_has_native_bf16():
        return "mixed_bfloat16"
    return "float32"


def set_precision_policy(name: str) -> str:
    """Set Keras' global dtype policy from ``name`` and return the policy applied.

    ``name`` is ``"auto"``, ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.
    Build the models after calling this.
    """
    policy = resolve_precision(name)
    keras.mixed_precision.set_global_policy(policy)
    logger.info("Precision policy: %s (asked for %s)", policy, name)
    return policy


def wrap_optimizer(
    optimizer: keras.optimizers.Optimizer, policy: str
) -> keras.optimizers.Optimizer:
    """``LossScaleOptimizer(optimizer)`` under ``mixed_float16``, else ``optimizer`` unchanged.

    float16 gradients underflow without loss scaling; bfloat16 has float32's range and needs
    none. ``Pix2Pix.train_step`` calls ``scale_loss``, which the wrapper implements.
    """
    if policy not in POLICIES:
        raise ValueError(
            f"unknown policy {policy!r}: pass the value set_precision_policy returned, "
            f"one of {', '.join(POLICIES)}"
        )
    if policy == "mixed_float16" and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
