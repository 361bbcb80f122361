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

This module is the section (its options and rows); the pairs every case reads are
:mod:`.training_pairs`, the timed trainers :mod:`.training_speed` and the loss curves
:mod:`.training_curves`.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import keras

from sketch_to_photo.tools.benchmark.report import Row
from sketch_to_photo.tools.benchmark.training_curves import (
    curve_chunk,
    plot_curves,
    project_curve,
    reference_curve,
)
from sketch_to_photo.tools.benchmark.training_pairs import synthetic_pairs
from sketch_to_photo.tools.benchmark.training_speed import (
    Setting,
    interleaved,
    project_trainer,
    recommended_candidates,
    reference_trainer,
)

SECTION = "training"
HELD_OUT_PAIRS = 32
DEFAULT_BATCHES = "4,8,16"


_START = time.perf_counter()


def progress(message: str) -> None:
    elapsed = time.perf_counter() - _START
    print(f"[training {elapsed:6.1f}s] {message}", file=sys.stderr, flush=True)


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
