"""Inference speed: milliseconds per sketch through the project's inference path, Keras
against ONNX Runtime.

A sketch is drawn, encoded as PNG and sent through :mod:`sketch_to_photo.prediction.preprocessing`
as the demo does: batch 1 is :func:`~sketch_to_photo.prediction.preprocessing.generate_photo`
(decode, checks, resize, scale, generator in inference mode, back to uint8); batch 16 preprocesses
each sketch with :func:`~sketch_to_photo.prediction.preprocessing.preprocess_sketch` and runs the
generator once on the stack. For every image side (default 64, 128 and 256 px; 64 filters, 54.4M
parameters at 256 px) the generator's weights are random (the speed does not depend on them) and it
is timed

- in Keras, in float32 and in the recommended precision for the machine (``auto``);
- in ONNX Runtime (:class:`~sketch_to_photo.prediction.onnx_runtime.OnnxModel`), as the float32
  export of the same generator (:func:`~sketch_to_photo.models.export.export_onnx`), through the
  same code.

At each size and batch the generators take turns call by call (:func:`time_in_turns`), so the
ratios compare calls from the same seconds even when the machine is not quite quiet. ONNX rows
carry ``speedup_vs_keras``: the best Keras time per sketch at the same size and batch
divided by ONNX Runtime's, both measured in this run (the ratio is what carries over to another
machine, not the absolute times).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import keras
import numpy as np
import onnxruntime

from sketch_to_photo.models import build_generator
from sketch_to_photo.models.export import export_onnx
from sketch_to_photo.models.precision import set_precision_policy
from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.preprocessing import generate_photo, preprocess_sketch, to_uint8
from sketch_to_photo.tools.benchmark import ceiling
from sketch_to_photo.tools.benchmark.flops import conv_flops
from sketch_to_photo.tools.benchmark.report import Row

SECTION = "inference"
TARGET_MS_BATCH_1 = 150.0
BACKENDS = ("keras", "onnx")


def progress(message: str) -> None:
    print(f"[inference] {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("inference")
    group.add_argument(
        "--inference-sizes", default="64,128,256", help="image sides (default 64,128,256)"
    )
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
        help="Keras precision policies to time (default float32,auto)",
    )
    group.add_argument(
        "--inference-backends",
        default="keras,onnx",
        help="keras (each precision) and/or onnx (ONNX Runtime, float32 export); default both",
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


Generator = keras.Model | OnnxModel


def inference_call(
    generator: Generator, sketch: bytes, size: int, batch_size: int
) -> Callable[[], np.ndarray]:
    """One call of the inference path on ``batch_size`` sketches, for a ``keras.Model`` or an
    :class:`OnnxModel` alike: batch 1 is :func:`generate_photo`, a larger batch preprocesses
    each sketch and runs the generator once on the stack."""
    if batch_size == 1:
        return lambda: generate_photo(generator, sketch, size)

    def batch() -> np.ndarray:
        stack = np.stack([preprocess_sketch(sketch, size) for _ in range(batch_size)])
        return to_uint8(generator.predict_on_batch(stack))

    return batch


def time_in_turns(
    generators: dict[str, Generator],
    sketch: bytes,
    size: int,
    batch_size: int,
    repeats: int,
    warmup: int = 2,
) -> dict[str, float]:
    """Median seconds per call of the inference path for each generator, the generators taking
    turns: a load that comes and goes slows them all alike, so their ratios hold on a machine
    that is not quite quiet.

    With several generators each turn starts with one untimed call: the first call after
    another backend ran is slowed by that backend's threads (ONNX Runtime's spin after a run),
    by up to 50% for Keras at batch 1, which timing alone would not see.
    """
    calls = {name: inference_call(g, sketch, size, batch_size) for name, g in generators.items()}
    for call in calls.values():
        for _ in range(warmup):
            call()
    settle = len(calls) > 1
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            if settle:
                call()
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def onnx_twin(generator: keras.Model, directory: str | Path, threads: int = 0) -> OnnxModel:
    """``generator`` exported to ONNX in ``directory`` and opened in ONNX Runtime."""
    path = export_onnx(generator, Path(directory) / f"{generator.name}.onnx")
    return OnnxModel(path, threads=threads)


def _int_list(text: str, option: str) -> list[int]:
    try:
        values = [int(part) for part in str(text).split(",")]
    except ValueError as error:
        raise ValueError(f"{option} must be comma-separated integers, got {text!r}") from error
    if not values or min(values) < 1:
        raise ValueError(f"{option} must be positive, got {text!r}")
    return values


def _names(text: str, option: str, allowed: tuple[str, ...] | None = None) -> list[str]:
    names = [part.strip().lower() for part in str(text).split(",") if part.strip()]
    unknown = sorted(set(names) - set(allowed)) if allowed is not None else []
    if not names or unknown:
        raise ValueError(f"{option} takes any of {', '.join(allowed or ())}, got {text!r}")
    return list(dict.fromkeys(names))  # in order, once each


def _row(case: str, seconds: float, batch_size: int, flops: float, note: str) -> Row:
    ms_per_sketch = 1000.0 * seconds / batch_size
    gflops = batch_size * flops / seconds / 1e9
    values = {
        "ms_per_sketch": ms_per_sketch,
        "sketches_per_s": batch_size / seconds,
        "gflops": gflops,
        **ceiling.fractions(gflops),
    }
    if batch_size == 1:
        met = "met" if ms_per_sketch <= TARGET_MS_BATCH_1 else "NOT met"
        note += f"; target <= {TARGET_MS_BATCH_1:.0f} ms {met}"
    return Row(SECTION, case, values, note)


def _compare(rows: list[Row], size: int, batch_size: int) -> None:
    """Add ``speedup_vs_keras`` to the ONNX row (best Keras ms per sketch / ONNX's) and say
    which backend is faster."""
    onnx = next((row for row in rows if row.case.startswith("onnx ")), None)
    keras_rows = [row for row in rows if row is not onnx]
    if onnx is None or not keras_rows:
        return
    best = min(keras_rows, key=lambda row: row.values["ms_per_sketch"])
    keras_ms, onnx_ms = best.values["ms_per_sketch"], onnx.values["ms_per_sketch"]
    policy = best.case.split()[0]
    onnx.values["speedup_vs_keras"] = keras_ms / onnx_ms
    onnx.note += f"; vs keras {policy}"
    faster, ratio = ("onnx", keras_ms / onnx_ms)
    if keras_ms < onnx_ms:
        faster, ratio = (f"keras {policy}", onnx_ms / keras_ms)
    progress(
        f"{size}px b{batch_size}: {faster} is faster, {ratio:.2f}x "
        f"(onnx {onnx_ms:.3g} ms, keras {policy} {keras_ms:.3g} ms per sketch)"
    )


def _time_size(
    size: int,
    filters: int,
    backends: list[str],
    precisions: list[str],
    batch_sizes: list[int],
    repeats: int,
    threads: int,
) -> list[Row]:
    """Rows for one image side: each Keras precision and ONNX Runtime, taking turns."""
    sketch = sketch_png(size)
    generators: dict[str, Generator] = {}
    notes: dict[str, str] = {}
    flops: dict[str, float] = {}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="inference-onnx-") as directory:
        try:
            for precision in precisions if "keras" in backends else []:
                policy = set_precision_policy(precision)
                if policy in generators:  # e.g. auto is float32 on this machine
                    progress(f"{size}px: {precision} is {policy}, already built")
                    continue
                keras.utils.set_random_seed(0)  # the same weights in every precision
                generators[policy] = build_generator(size, filters)
                flops[policy] = conv_flops(generators[policy])
                notes[policy] = f"keras, asked {precision}, {filters} filters"
            if "onnx" in backends:
                source = generators.get("float32")
                if not isinstance(source, keras.Model):
                    set_precision_policy("float32")
                    keras.utils.set_random_seed(0)
                    source = build_generator(size, filters)
                progress(f"onnx {size}px: exporting the float32 generator")
                generators["onnx"] = onnx_twin(source, directory, threads)
                flops["onnx"] = conv_flops(source)
                notes["onnx"] = (
                    f"onnxruntime {onnxruntime.__version__}, float32 export, {filters} filters"
                )
                del source
            keras.mixed_precision.set_global_policy("float32")
            for batch_size in batch_sizes:
                progress(
                    f"{size}px batch {batch_size}: {', '.join(generators)} taking turns, "
                    f"{repeats} calls each"
                )
                seconds = time_in_turns(generators, sketch, size, batch_size, repeats)
                batch_rows = [
                    _row(f"{name} {size}px b{batch_size}", s, batch_size, flops[name], notes[name])
                    for name, s in seconds.items()
                ]
                _compare(batch_rows, size, batch_size)
                rows.extend(batch_rows)
        finally:
            generators.clear()  # the ONNX session's threads must not compete with the next size
            _reset_keras()
    return rows


def _reset_keras() -> None:
    keras.mixed_precision.set_global_policy("float32")
    keras.backend.clear_session()
    gc.collect()


def run(args: argparse.Namespace) -> list[Row]:
    sizes = _int_list(args.inference_sizes, "--inference-sizes")
    filters, repeats = args.inference_filters, args.inference_repeats
    if args.inference_quick:
        sizes, filters, repeats = [32], 8, 2
    batch_sizes = _int_list(args.inference_batches, "--inference-batches")
    if repeats < 1:
        raise ValueError(f"--inference-repeats must be positive, got {repeats}")
    backends = _names(args.inference_backends, "--inference-backends", BACKENDS)
    precisions = _names(args.inference_precisions, "--inference-precisions")
    # ONNX Runtime gets the threads TensorFlow was given (0: one per core for both).
    threads = int(getattr(args, "intra_op_threads", 0) or 0)
    rows: list[Row] = []
    for size in sizes:
        rows.extend(_time_size(size, filters, backends, precisions, batch_sizes, repeats, threads))
    return rows
