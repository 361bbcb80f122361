"""The training benchmark's timed trainers: the TensorFlow tutorial's step and the project's
Pix2Pix under a setting (precision, batch size, XLA), run step by step and taking turns."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from sketch_to_photo.models import Pix2Pix, build_discriminator, build_generator
from sketch_to_photo.models.precision import has_gpu, set_precision_policy, wrap_optimizer
from sketch_to_photo.tools.benchmark import ceiling
from sketch_to_photo.tools.benchmark.flops import pix2pix_train_flops
from sketch_to_photo.tools.benchmark.reference import TutorialPix2Pix
from sketch_to_photo.tools.benchmark.training_pairs import pair_pipeline


@dataclass(frozen=True)
class Setting:
    """One way to train the project's model: precision policy, batch size, XLA."""

    precision: str  # as for set_precision_policy: auto | float32 | mixed_bfloat16 | ...
    batch_size: int
    jit_compile: bool = False

    def label(self, policy: str) -> str:
        short = {"float32": "fp32", "mixed_bfloat16": "bf16", "mixed_float16": "fp16"}
        xla = " xla" if self.jit_compile else ""
        return f"{short.get(policy, policy)} b{self.batch_size}{xla}"


def recommended_candidates(batch_sizes: Sequence[int], precision: str = "auto") -> list[Setting]:
    """The settings tried for this machine: XLA only on a GPU (it slowed the CPU step here)."""
    return [Setting(precision, b, jit_compile=has_gpu()) for b in batch_sizes]


@dataclass
class Timing:
    step_seconds: list[float]  # the timed steps only
    batch_size: int
    train_flops_per_image: int

    @property
    def images_per_s(self) -> float:
        return self.batch_size / statistics.median(self.step_seconds)

    def values(self, reference: Timing | None = None) -> dict[str, float]:
        """Figures, with ``x_reference`` the ratio of images/s to ``reference``'s."""
        gflops = self.images_per_s * self.train_flops_per_image / 1e9
        values = {
            "ms_per_step": 1000.0 * statistics.median(self.step_seconds),
            "images_per_s": self.images_per_s,
            "gflops": gflops,
            **ceiling.fractions(gflops),
        }
        if reference is not None:
            values["x_reference"] = self.images_per_s / reference.images_per_s
        return values


class Trainer:
    """One training step at a time of some trainer, each waiting until the step is done."""

    def __init__(self, step: Callable[[], object], batch_size: int, flops: int) -> None:
        self._step = step
        self.batch_size = batch_size
        self.train_flops_per_image = flops

    def step(self) -> float:
        """Run one step (input included) and return its seconds."""
        start = time.perf_counter()
        self._step()
        return time.perf_counter() - start

    def warm_up(self, steps: int) -> None:
        for _ in range(steps):
            self.step()


def reference_trainer(
    sketches: np.ndarray, photos: np.ndarray, size: int, filters: int
) -> tuple[Trainer, TutorialPix2Pix]:
    """The tutorial's ``train_step`` on the tutorial's batch 1, fed by ``tf.data``."""
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    reference = TutorialPix2Pix(size, filters)
    batches = iter(pair_pipeline(sketches, photos, 1))

    def step() -> float:
        input_image, target = next(batches)
        return float(reference.train_step(input_image, target)["g_loss"])  # waits

    flops = pix2pix_train_flops(reference.generator, reference.discriminator)
    return Trainer(step, 1, flops), reference


def build_project_model(
    setting: Setting, size: int, filters: int, seed: int = 0
) -> tuple[Pix2Pix, str]:
    """The project's Pix2Pix compiled as the training pipeline does, under ``setting``.

    Leaves the global policy at the setting's; callers restore float32.
    """
    policy = set_precision_policy(setting.precision)
    keras.utils.set_random_seed(seed)
    model = Pix2Pix(build_generator(size, filters), build_discriminator(size, filters))
    model.compile(
        g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy),
        d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy),
        l1_weight=100.0,
        perceptual_weight=0.0,
        jit_compile=setting.jit_compile,
    )
    return model, policy


def project_trainer(
    sketches: np.ndarray, photos: np.ndarray, setting: Setting, size: int, filters: int,
    warmup: int,
) -> tuple[Trainer, str]:  # fmt: skip
    """Pix2Pix after ``fit()`` has run ``warmup`` steps; a step is then the very function
    ``fit()`` calls for each batch (``model.train_function`` on a ``tf.data`` iterator)."""
    try:
        model, policy = build_project_model(setting, size, filters)
        data = pair_pipeline(sketches, photos, setting.batch_size)
        model.fit(data, steps_per_epoch=warmup, epochs=1, verbose=0)  # traces and warms up
    finally:
        keras.mixed_precision.set_global_policy("float32")
    batches = iter(data)

    def step() -> float:
        return float(model.train_function(batches)["g_loss"])  # waits for the step

    flops = pix2pix_train_flops(model.generator, model.discriminator)
    return Trainer(step, setting.batch_size, flops), policy


def interleaved(trainers: Sequence[Trainer], steps: int) -> list[Timing]:
    """``steps`` steps of each trainer, taking turns, so that a shared machine's load falls
    on all of them alike; one :class:`Timing` per trainer."""
    seconds: list[list[float]] = [[] for _ in trainers]
    for _ in range(steps):
        for trainer, times in zip(trainers, seconds, strict=True):
            times.append(trainer.step())
    return [
        Timing(times, t.batch_size, t.train_flops_per_image)
        for t, times in zip(trainers, seconds, strict=True)
    ]
