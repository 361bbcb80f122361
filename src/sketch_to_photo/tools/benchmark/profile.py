"""Where a training step's time goes: ``python -m sketch_to_photo.tools.benchmark profile``.

Traces ``--profile-steps`` steps of the project's Pix2Pix at the ``conf/cpu_real`` recipe's
settings of 2026-12-03 (64 px by default, ``--profile-size 128`` for today's; 32 base
filters, instance norm, class-aware, batch 16, bf16 where the CPU has it) with TensorFlow's
profiler, after ``fit()`` has traced and warmed the step. Every op the executor ran is summed
by kind:

- convolutions forward (a transposed convolution's forward pass is a ``Conv2DBackpropInput``
  op) and backward (ops under ``gradient_tape``);
- normalisation (ops under a ``*norm*`` scope: the instance-norm moments and their gradients);
- the optimizers (ops under ``adam``: Keras' Adam is a dozen small ops per variable);
- dtype casts (``Cast``: bf16 compute with float32 variables and norms);
- everything else (activations, losses, concatenations, random jitter).

Ops run on TensorFlow's inter-op threads (two here), each op's work on the intra-op pool, so op
times add up to about ``wall x inter-op threads``; ``busy`` says how much of that was spent in
ops. ``conv GFLOP/s`` is the step's convolution FLOPs over the time spent in convolution ops.

``--profile-shards FOLDER`` also times the input pipeline alone (npz read, resize, jitter, flip
and batching as in training) over the real pair shards in that folder: on 2 cores it shares the
CPU with the step inside ``kedro run``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.models import Pix2Pix, build_discriminator, build_generator
from sketch_to_photo.models.data import pair_dataset
from sketch_to_photo.models.precision import set_precision_policy, wrap_optimizer
from sketch_to_photo.tools.benchmark import ceiling
from sketch_to_photo.tools.benchmark.flops import pix2pix_train_flops
from sketch_to_photo.tools.benchmark.report import Row

SECTION = "profile"
KINDS = ("conv forward", "conv backward", "normalisation", "optimizer", "casts", "other")
# An op's trace event is "<scope>/<name>:<OpType>"; wrappers (executor, eager calls) are not.
_OP_EVENT = re.compile(r"^(?P<scope>[^\s:]+):(?P<type>[A-Za-z0-9_]+)$")
_OPTIMIZER_SCOPE = re.compile(r"(^|/)adam(_\d+)?(/|$)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("profile")
    group.add_argument("--profile-size", type=int, default=64, help="image side (default 64)")
    group.add_argument("--profile-filters", type=int, default=32, help="base filters (default 32)")
    group.add_argument("--profile-batch", type=int, default=16, help="batch size (default 16)")
    group.add_argument("--profile-classes", type=int, default=2,
                       help="categories as an input (class-aware); 0: unconditional (default 2)")  # fmt: skip
    group.add_argument("--profile-precision", default="auto", help="as training.precision")
    group.add_argument("--profile-steps", type=int, default=20, help="traced steps (default 20)")
    group.add_argument("--profile-shards", type=Path,
                       help="a folder of train pair shards: also time the input pipeline alone")  # fmt: skip


def op_kind(scope: str, op_type: str) -> str:
    """The kind of time an op stands for, from its trace name."""
    lowered = scope.lower()
    if _OPTIMIZER_SCOPE.search(lowered):
        return "optimizer"
    if "Conv2D" in op_type:
        return "conv backward" if "gradient_tape" in lowered else "conv forward"
    if "norm" in lowered:
        return "normalisation"
    if op_type == "Cast":
        return "casts"
    return "other"


def op_seconds_by_kind(xspace_file: Path) -> dict[str, float]:
    """Seconds of op execution on the host's executor threads, summed by :func:`op_kind`."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(xspace_file.read_bytes())
    totals: dict[str, float] = defaultdict(float)
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            for event in line.events:
                match = _OP_EVENT.match(plane.event_metadata[event.metadata_id].name)
                if match:
                    kind = op_kind(match["scope"], match["type"])
                    totals[kind] += event.duration_ps * 1e-12
    return {kind: totals.get(kind, 0.0) for kind in KINDS}


def _recipe_model(args: argparse.Namespace) -> Pix2Pix:
    policy = set_precision_policy(args.profile_precision)
    try:
        size, width, classes = args.profile_size, args.profile_filters, args.profile_classes
        model = Pix2Pix(
            build_generator(size, width, normalization="instance", num_classes=classes),
            build_discriminator(size, width, normalization="instance", num_classes=classes),
        )
        model.compile(
            g_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy),
            d_optimizer=wrap_optimizer(keras.optimizers.Adam(2e-4, beta_1=0.5), policy),
            l1_weight=100.0,
            perceptual_weight=0.0,
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    return model


def _random_batches(args: argparse.Namespace) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    n, size, classes = 4 * args.profile_batch, args.profile_size, args.profile_classes
    sketches = rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32)
    photos = rng.uniform(-1, 1, (n, size, size, 3)).astype(np.float32)
    inputs = (sketches, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)])
    data = tf.data.Dataset.from_tensor_slices((inputs if classes else sketches, photos))
    return data.repeat().batch(args.profile_batch).prefetch(2)


def profile_step(args: argparse.Namespace) -> tuple[float, dict[str, float], int]:
    """Wall seconds per traced step (their mean), op seconds per step by kind, FLOPs per image."""
    model = _recipe_model(args)
    data = _random_batches(args)
    model.fit(data, steps_per_epoch=5, epochs=1, verbose=0)  # traces and warms the step
    batches = iter(data)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        started = time.perf_counter()
        for _ in range(args.profile_steps):
            float(model.train_function(batches)["g_loss"])  # waits for the step
        seconds = time.perf_counter() - started
        tf.profiler.experimental.stop()
        (xspace,) = Path(logdir).rglob("*.xplane.pb")
        by_kind = op_seconds_by_kind(xspace)
    steps = args.profile_steps
    flops = pix2pix_train_flops(model.generator, model.discriminator)
    return seconds / steps, {k: v / steps for k, v in by_kind.items()}, flops


def input_images_per_second(args: argparse.Namespace, batches: int = 30) -> float:
    """The training input pipeline alone over real shards, as the training node builds it."""
    shards = NpzShardsDataset(path=str(args.profile_shards)).load()
    if not shards:
        raise SystemExit(f"--profile-shards {args.profile_shards}: no .npz pair shards there")
    data = pair_dataset(
        shards, image_size=args.profile_size, batch_size=args.profile_batch, training=True,
        num_classes=args.profile_classes,
    ).repeat()  # fmt: skip
    batches_iter = iter(data)
    next(batches_iter)  # opens the files, fills the shuffle buffer
    started = time.perf_counter()
    for _ in range(batches):
        next(batches_iter)
    return batches * args.profile_batch / (time.perf_counter() - started)


def run(args: argparse.Namespace) -> list[Row]:
    if args.profile_steps < 1 or args.profile_batch < 1:
        raise SystemExit("--profile-steps and --profile-batch must be at least 1")
    print(f"[profile] tracing {args.profile_steps} steps", file=sys.stderr, flush=True)
    step_seconds, by_kind, flops = profile_step(args)
    op_seconds = sum(by_kind.values())
    # 0 is TensorFlow's default: one inter-op thread per core.
    inter_op = tf.config.threading.get_inter_op_parallelism_threads() or os.cpu_count() or 1
    images_per_s = args.profile_batch / step_seconds
    gflops = images_per_s * flops / 1e9
    conv_seconds = by_kind["conv forward"] + by_kind["conv backward"]
    config = (
        f"{args.profile_size}px, {args.profile_filters} filters, batch {args.profile_batch}, "
        f"instance norm, {args.profile_classes} classes"
    )
    rows = [
        Row(SECTION, "step", {
            "ms_per_step": 1000 * step_seconds, "images_per_s": images_per_s, "gflops": gflops,
            **ceiling.fractions(gflops),
            "busy_pct": 100 * op_seconds / (step_seconds * inter_op),
            "conv_gflops": args.profile_batch * flops / 1e9 / conv_seconds if conv_seconds else 0.0,
        }, config),
    ]  # fmt: skip
    rows += [
        Row(SECTION, kind, {"ms_per_step": 1000 * seconds, "share_pct": 100 * seconds / op_seconds})
        for kind, seconds in by_kind.items()
    ]
    if args.profile_shards:
        rate = input_images_per_second(args)
        rows.append(Row(SECTION, "input pipeline alone", {
            "images_per_s": rate, "x_step_rate": rate / images_per_s,
        }, f"pair_dataset over {args.profile_shards}"))  # fmt: skip
    return rows
