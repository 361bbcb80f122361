"""Inference speed: milliseconds per 256x256 sketch through the project's inference path.

A sketch is drawn, encoded as PNG and sent through :mod:`sketch_to_photo.inference` as the
demo does: batch 1 is :func:`~sketch_to_photo.inference.generate_photo` (decode, checks,
resize, scale, generator in inference mode, back to uint8); batch 16 preprocesses each sketch
with :func:`~sketch_to_photo.inference.preprocess_sketch` and runs the generator once on the
stack. The generator has the training size (default 256 px, 64 filters, 54.4M parameters);
its weights are random (the speed does not depend on them). Each case is timed in float32 and
in the recommended precision for the machine (``auto``).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time

import cv2
import keras
import numpy as np

from sketch_to_photo.benchmark import ceiling
from sketch_to_photo.benchmark.flops import conv_flops
from sketch_to_photo.benchmark.report import Row
from sketch_to_photo.inference import generate_photo, preprocess_sketch, to_uint8
from sketch_to_photo.models import build_generator
from sketch_to_photo.models.precision import set_precision_policy

SECTION = "inference"
TARGET_MS_BATCH_1 = 150.0


def progress(message: str) -> None:
    print(f"[inference] {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("inference")
    group.add_argument("--inference-size", type=int, default=256, help="image side (default 256)")
    group.add_argument(
        "--inference-filters", type=int, default=64, help="base filters (default 64)"
    )
    group.add_argument("--inference-batches", default="1,16", help="batch sizes (default 1,16)")
    group.add_argument(
        "--inference-repeats", type=int, default=10, help="timed calls per case (default 10)"
    )
    group.add_argument(
        "--inference-precisions",
        default="float32,auto",
        help="precision policies to time (default float32,auto)",
    )
    group.add_argument(
        "--inference-quick", action="store_true", help="tiny sizes (32 px, 8 filters, 2 calls)"
    )


def sketch_png(size: int, seed: int = 0) -> bytes:
    """A hand-drawn-looking sketch (dark strokes on white), PNG-encoded like an upload."""
    rng = np.random.default_rng(seed)
    canvas = np.full((size, size, 3), 255, np.uint8)
    thickness = max(1, size // 128)
    centre = (size // 2, size // 2)
    cv2.ellipse(canvas, centre, (size // 3, size // 4), 0, 0, 360, (20, 20, 20), thickness)
    for _ in range(6):
        points = rng.integers(size // 6, 5 * size // 6, size=(5, 2)).astype(np.int32)
        cv2.polylines(canvas, [points], False, (0, 0, 0), thickness)
    ok, encoded = cv2.imencode(".png", canvas)
    if not ok:
        raise RuntimeError("OpenCV could not encode the benchmark sketch as PNG")
    return encoded.tobytes()


def _median_seconds(call: object, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        call()  # type: ignore[operator]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_generator(
    generator: keras.Model, sketch: bytes, size: int, batch_size: int, repeats: int
) -> float:
    """Median seconds per call of the inference path on ``batch_size`` sketches."""
    if batch_size == 1:
        return _median_seconds(lambda: generate_photo(generator, sketch, size), repeats)

    def batch() -> np.ndarray:
        stack = np.stack([preprocess_sketch(sketch, size) for _ in range(batch_size)])
        return to_uint8(generator.predict_on_batch(stack))

    return _median_seconds(batch, repeats)


def run(args: argparse.Namespace) -> list[Row]:
    size, filters, repeats = args.inference_size, args.inference_filters, args.inference_repeats
    if args.inference_quick:
        size, filters, repeats = 32, 8, 2
    try:
        batch_sizes = [int(b) for b in str(args.inference_batches).split(",")]
    except ValueError as error:
        raise ValueError(
            f"--inference-batches must be comma-separated integers, got {args.inference_batches!r}"
        ) from error
    if not batch_sizes or min(batch_sizes) < 1 or repeats < 1:
        raise ValueError("--inference-batches and --inference-repeats must be positive")
    sketch = sketch_png(size)
    rows = []
    for precision in str(args.inference_precisions).split(","):
        try:
            policy = set_precision_policy(precision)
            keras.utils.set_random_seed(0)
            generator = build_generator(size, filters)
            flops = conv_flops(generator)
            for batch_size in batch_sizes:
                progress(f"{policy} batch {batch_size}, {repeats} calls")
                seconds = time_generator(generator, sketch, size, batch_size, repeats)
                ms_per_sketch = 1000.0 * seconds / batch_size
                gflops = batch_size * flops / seconds / 1e9
                values = {
                    "ms_per_sketch": ms_per_sketch,
                    "sketches_per_s": batch_size / seconds,
                    "gflops": gflops,
                    **ceiling.fractions(gflops),
                }
                note = f"asked {precision}, {size}px, {filters} filters"
                if batch_size == 1:
                    met = "met" if ms_per_sketch <= TARGET_MS_BATCH_1 else "NOT met"
                    note += f"; target <= {TARGET_MS_BATCH_1:.0f} ms {met}"
                rows.append(Row(SECTION, f"{policy} b{batch_size}", values, note))
        finally:
            keras.mixed_precision.set_global_policy("float32")
            keras.backend.clear_session()
            gc.collect()
    return rows
