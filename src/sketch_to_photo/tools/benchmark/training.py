"""Training speed: the TensorFlow tutorial's train step against the project's trainer.

Cases, all at the same model size (default 256x256, 64 base filters: 54.4M + 2.8M parameters):

- ``reference fp32 b1``: :mod:`sketch_to_photo.tools.benchmark.reference`, the tutorial exactly
  (batch 1, float32, its ``@tf.function`` step), iterating a ``tf.data`` pipeline;
- ``project fp32 b1``: :class:`~sketch_to_photo.models.Pix2Pix` compiled as the training
  pipeline does (no perceptual term), same configuration; after ``fit()`` has traced and warmed
  it, each timed step is the function ``fit()`` calls per batch (``model.train_function``);
- ``project <policy> b<N>``: candidate settings for this machine (precision from
  :func:`~sketch_to_photo.models.precision.set_precision_policy`, batch sizes, XLA on a GPU);
  the one with the highest ``x_reference`` is repeated as ``recommended``.

Each trainer runs ``warmup`` untimed steps (tracing, oneDNN primitive creation), then takes
turns step by step with the reference for ``steps`` steps, so that each ratio to the reference
(``x_reference``, images per second) compares steps run in the same minutes even when other
work loads the machine. Figures are medians of the timed steps. GFLOP/s use
:func:`~sketch_to_photo.tools.benchmark.flops.pix2pix_train_flops` for every trainer.

``--training-loss-curves PNG`` also trains the reference and the recommended setting from the
same seed over the same images in the same order and plots their training L1 against images
seen, with the held-out L1 at the end: the speed must not cost quality.
"""

from __future__ import annotations

import argparse
import gc
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import keras
import matplotlib
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from sketch_to_photo.data.sketchy.layout import PHOTO_ROOT, SKETCH_ROOT, photo_id_of
from sketch_to_photo.data.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy
from sketch_to_photo.models import Pix2Pix, build_discriminator, build_generator
from sketch_to_photo.models.precision import has_gpu, set_precision_policy, wrap_optimizer
from sketch_to_photo.tools.benchmark import ceiling
from sketch_to_photo.tools.benchmark.flops import pix2pix_train_flops
from sketch_to_photo.tools.benchmark.reference import TutorialPix2Pix
from sketch_to_photo.tools.benchmark.report import Row
from sketch_to_photo.utils.atomic import atomic_file

matplotlib.use("Agg")  # files only, never a window

SECTION = "training"
CURVE_CHUNK_IMAGES = 32  # the loss curves average the training L1 over this many images
HELD_OUT_PAIRS = 32
DEFAULT_BATCHES = "4,8,16"


_START = time.perf_counter()


def progress(message: str) -> None:
    elapsed = time.perf_counter() - _START
    print(f"[training {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("training")
    group.add_argument("--training-size", type=int, default=256, help="image side (default 256)")
    group.add_argument("--training-filters", type=int, default=64, help="base filters (default 64)")
    group.add_argument(
        "--training-warmup", type=int, default=3, help="untimed steps per case (default 3)"
    )
    group.add_argument(
        "--training-steps", type=int, default=10, help="timed steps per case (default 10)"
    )
    group.add_argument(
        "--training-batches",
        default=DEFAULT_BATCHES,
        help=f"batch sizes tried for the recommended setting (default {DEFAULT_BATCHES})",
    )
    group.add_argument(
        "--training-precision",
        default="auto",
        help="precision of the recommended candidates (default auto: bf16 on a bf16 CPU, "
        "fp16 on a GPU)",
    )
    group.add_argument(
        "--training-loss-curves",
        type=Path,
        default=None,
        metavar="PNG",
        help="also compare the reference's and the recommended setting's loss curves; plot here",
    )
    group.add_argument(
        "--training-curve-images",
        type=int,
        default=256,
        help="images each trainer sees for the loss curves (default 256)",
    )
    group.add_argument(
        "--training-quick",
        action="store_true",
        help="tiny sizes (32 px, 8 filters, 2 steps) to check the section runs",
    )


def _options(args: argparse.Namespace) -> argparse.Namespace:
    options = argparse.Namespace(**vars(args))
    if args.training_quick:  # small sizes; options given explicitly still apply
        options.training_size, options.training_filters = 32, 8
        options.training_warmup, options.training_steps = 1, 2
        if args.training_batches == DEFAULT_BATCHES:
            options.training_batches = "2"
        options.training_curve_images = min(args.training_curve_images, 16)
    try:
        options.batch_sizes = [int(b) for b in str(options.training_batches).split(",")]
    except ValueError as error:
        raise ValueError(
            f"--training-batches must be comma-separated integers, got {options.training_batches!r}"
        ) from error
    if not options.batch_sizes or min(options.batch_sizes) < 1:
        raise ValueError(f"--training-batches needs positive sizes, got {options.batch_sizes}")
    if options.training_steps < 1 or options.training_warmup < 1:
        raise ValueError("--training-steps and --training-warmup must be at least 1")
    return options


# --- data -------------------------------------------------------------------------------


def synthetic_pairs(count: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` (sketch, photo) pairs from the project's synthetic Sketchy generator.

    float32 in [-1, 1] at ``size``; sketch order is shuffled (seeded) so that categories mix.
    """
    per_photo = (4, 6)
    photos_per_category = max(2, math.ceil(count / (4 * per_photo[0])))
    config = SyntheticConfig(
        photos_per_category=photos_per_category,
        sketches_per_photo=per_photo,
        image_size=max(size, 64),  # drawn at the model size (64 px at least), like Sketchy's 256
        seed=seed,
        invalid_error_per_category=0,
        invalid_ambiguous_per_category=0,
        invalid_pose_per_category=0,
        invalid_context_per_category=0,
        testset_per_category=0,
    )
    with tempfile.TemporaryDirectory(prefix="benchmark-pairs-") as tmp:
        root = Path(tmp) / "sketchy"
        generate_synthetic_sketchy(root, config, progress=False)
        sketch_files = sorted((root / SKETCH_ROOT).glob("*/*/*.png"))
        photo_files = {p.stem: p for p in (root / PHOTO_ROOT).glob("*/*/*.jpg")}
        order = np.random.default_rng(seed).permutation(len(sketch_files))[:count]
        if len(order) < count:
            raise RuntimeError(f"the generator drew {len(sketch_files)} sketches, need {count}")
        sketches = np.stack([_read(sketch_files[i], size) for i in order])
        photos = np.stack(
            [_read(photo_files[photo_id_of(sketch_files[i].stem)], size) for i in order]
        )
    return sketches, photos


def _read(path: Path, size: int) -> np.ndarray:
    image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 127.5 - 1.0


def pair_pipeline(sketches: np.ndarray, photos: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The same input pipeline for every case: repeated, batched, prefetched."""
    data = tf.data.Dataset.from_tensor_slices((sketches, photos)).repeat()
    return data.batch(batch_size, drop_remainder=True).prefetch(2)


# --- timing -----------------------------------------------------------------------------


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


# --- quality ----------------------------------------------------------------------------


@dataclass
class Curve:
    label: str
    images_seen: list[int]
    train_l1: list[float]  # mean training L1 over each chunk of images
    held_out_l1: float


def _held_out_l1(generator: keras.Model, sketches: np.ndarray, photos: np.ndarray) -> float:
    fakes = generator.predict(sketches, batch_size=8, verbose=0)
    return float(np.mean(np.abs(photos - fakes.astype(np.float32))))


def reference_curve(
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    size: int,
    filters: int,
    chunk: int,
) -> Curve:
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    reference = TutorialPix2Pix(size, filters)
    l1 = []
    for input_image, target in pair_pipeline(*train, 1).take(len(train[0])):
        l1.append(float(reference.train_step(input_image, target)["g_l1"]))
    chunks = [l1[i : i + chunk] for i in range(0, len(l1) - chunk + 1, chunk)]
    return Curve(
        "reference fp32 b1 (TF tutorial)",
        [chunk * (i + 1) for i in range(len(chunks))],
        [float(np.mean(c)) for c in chunks],
        _held_out_l1(reference.generator, *held_out),
    )


def project_curve(
    train: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    setting: Setting,
    size: int,
    filters: int,
    chunk: int,
) -> Curve:
    batch = setting.batch_size
    if chunk % batch:
        raise ValueError(f"chunk of {chunk} images is not a multiple of the batch size {batch}")
    steps_per_chunk = chunk // batch
    chunks = len(train[0]) // chunk
    try:
        model, policy = build_project_model(setting, size, filters)
        # One "epoch" per chunk, so fit's epoch mean of g_l1 is the chunk's mean.
        history = model.fit(
            pair_pipeline(*train, batch), steps_per_epoch=steps_per_chunk, epochs=chunks, verbose=0
        )
        held_out_l1 = _held_out_l1(model.generator, *held_out)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return Curve(
        f"project {setting.label(policy)} (recommended)",
        [steps_per_chunk * batch * (i + 1) for i in range(chunks)],
        [float(v) for v in history.history["g_l1"]],
        held_out_l1,
    )


def curve_chunk(images: int, batch_size: int) -> int:
    """Images per point of the loss curves: 32, fewer for short runs; a multiple of the batch."""
    chunk = min(CURVE_CHUNK_IMAGES, max(1, images // 4))
    chunk = max(batch_size, chunk // batch_size * batch_size)
    if images < chunk:
        raise ValueError(
            f"--training-curve-images {images} is less than one batch of the recommended "
            f"setting ({batch_size}): use at least {4 * batch_size}"
        )
    return chunk


def plot_curves(curves: Sequence[Curve], path: Path, title: str, chunk: int) -> None:
    figure = Figure(figsize=(7, 4.2), dpi=110)
    axes = figure.add_subplot()
    for curve in curves:
        axes.plot(
            curve.images_seen,
            curve.train_l1,
            marker="o",
            markersize=3,
            label=f"{curve.label}; held-out L1 {curve.held_out_l1:.3f}",
        )
    axes.set_xlabel("training images seen")
    axes.set_ylabel(f"training L1 (mean over {chunk} images)")
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    with atomic_file(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png")


# --- the section ------------------------------------------------------------------------


def _release() -> None:
    # Each case builds a 57M-parameter pair of models: free them before the next.
    keras.backend.clear_session()
    gc.collect()


def run(args: argparse.Namespace) -> list[Row]:
    o = _options(args)
    size, filters = o.training_size, o.training_filters
    n_timing = 4 * max(o.batch_sizes)
    n_curve = o.training_curve_images if o.training_loss_curves else 0
    progress(f"drawing {n_timing + n_curve + HELD_OUT_PAIRS} synthetic pairs at {size} px")
    sketches, photos = synthetic_pairs(n_timing + n_curve + HELD_OUT_PAIRS, size)
    timing_data = sketches[:n_timing], photos[:n_timing]
    config = f"{size}px, {filters} filters"

    warmup, steps = o.training_warmup, o.training_steps
    progress(f"reference (TF tutorial) fp32 b1: build, {warmup} warm-up steps")
    reference, _ = reference_trainer(*timing_data, size, filters)
    reference.warm_up(warmup)
    progress("project fp32 b1 (Pix2Pix, fit's train function): build and warm up")
    project, _ = project_trainer(*timing_data, Setting("float32", 1), size, filters, warmup)
    progress(f"reference and project fp32 b1 taking turns, {steps} steps each")
    reference_timing, project_timing = interleaved([reference, project], steps)
    rows = [
        Row(SECTION, "reference fp32 b1", reference_timing.values(reference_timing),
            f"TF tutorial, {config}"),
        Row(SECTION, "project fp32 b1", project_timing.values(reference_timing),
            f"Pix2Pix, {config}; target x_reference >= 1"),
    ]  # fmt: skip
    del project
    _release()

    # Each candidate takes turns with the reference: its ratio is to the reference's rate in
    # the same minutes, whatever else the machine was doing.
    best: tuple[float, Setting, str, dict[str, float]] | None = None
    for setting in recommended_candidates(o.batch_sizes, o.training_precision):
        progress(f"candidate {setting}: build, warm up, {steps} steps taking turns")
        candidate, policy = project_trainer(*timing_data, setting, size, filters, warmup)
        same_time_reference, timing = interleaved([reference, candidate], steps)
        values = timing.values(same_time_reference)
        rows.append(Row(SECTION, f"project {setting.label(policy)}", values, config))
        if best is None or values["x_reference"] > best[0]:
            best = (values["x_reference"], setting, policy, values)
        del candidate
        _release()
    assert best is not None  # at least one batch size
    _, best_setting, best_policy, best_values = best
    rows.append(
        Row(
            SECTION,
            "recommended",
            best_values,
            f"project {best_setting.label(best_policy)}: fastest candidate; targets "
            f"x_reference >= 3 and >= 60% of the bfloat16 ceiling",
        )
    )
    del reference
    _release()

    if o.training_loss_curves:
        train = sketches[n_timing : n_timing + n_curve], photos[n_timing : n_timing + n_curve]
        held_out = sketches[n_timing + n_curve :], photos[n_timing + n_curve :]
        chunk = curve_chunk(n_curve, best_setting.batch_size)
        progress(f"loss curves: reference over {n_curve} images")
        curves = [reference_curve(train, held_out, size, filters, chunk)]
        _release()
        progress(f"loss curves: recommended {best_setting.label(best_policy)}")
        curves.append(project_curve(train, held_out, best_setting, size, filters, chunk))
        _release()
        title = f"pix2pix at {config}: the same {n_curve} images, in the same order"
        plot_curves(curves, o.training_loss_curves, title, chunk)
        for curve, case in zip(curves, ("quality reference", "quality recommended"), strict=True):
            values = {
                "images": float(curve.images_seen[-1]),
                "first_train_l1": curve.train_l1[0],
                "last_train_l1": curve.train_l1[-1],
                "held_out_l1": curve.held_out_l1,
            }
            rows.append(Row(SECTION, case, values, f"{curve.label}; {o.training_loss_curves}"))
    return rows
