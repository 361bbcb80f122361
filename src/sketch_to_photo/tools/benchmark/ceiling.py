"""The machine's ceiling: GFLOP/s of a large float32 and bfloat16 matrix product.

A square ``tf.linalg.matmul`` is the best case for the same kernels (oneDNN on CPU, cuBLAS on
GPU) that convolutions use, so the other sections report their GFLOP/s also as a fraction of
these. The figures measured in this process are kept in :data:`MEASURED` for them.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import tensorflow as tf

from sketch_to_photo.tools.benchmark.report import Row

logger = logging.getLogger(__name__)

SECTION = "ceiling"
DTYPES = ("float32", "bfloat16")
# GFLOP/s per dtype measured in this process; empty until run() has run.
MEASURED: dict[str, float] = {}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("ceiling")
    group.add_argument("--ceiling-size", type=int, default=4096, help="matrix side (default 4096)")
    group.add_argument(
        "--ceiling-repeats", type=int, default=10, help="timed products per dtype (default 10)"
    )


def thread_settings() -> dict[str, float]:
    """The threads TensorFlow uses (0 means its default: one per core)."""
    return {
        "cores": float(os.cpu_count() or 0),
        "intra_op_threads": float(tf.config.threading.get_intra_op_parallelism_threads()),
        "inter_op_threads": float(tf.config.threading.get_inter_op_parallelism_threads()),
    }


def thread_note() -> str:
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)")
    gpus = len(tf.config.list_physical_devices("GPU"))
    return f"TF_ENABLE_ONEDNN_OPTS={onednn}, GPUs={gpus}"


def matmul_gflops(size: int, dtype: str, repeats: int, warmup: int = 2) -> float:
    """Best-of-``repeats`` GFLOP/s of a ``size`` x ``size`` product (2 n^3 FLOPs).

    Best rather than mean: the ceiling is what the hardware can do, and a shared machine
    only ever makes a repeat slower.
    """
    if size < 1 or repeats < 1:
        raise ValueError(f"size and repeats must be positive, got {size} and {repeats}")
    a = tf.random.normal((size, size), dtype="float32")
    b = tf.random.normal((size, size), dtype="float32")
    a, b = tf.cast(a, dtype), tf.cast(b, dtype)
    product = tf.function(tf.linalg.matmul)
    for _ in range(warmup):
        product(a, b)[0, 0].numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(a, b)[0, 0].numpy()  # reading one element waits for the product
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def fractions(gflops: float) -> dict[str, float]:
    """``gflops`` as a percentage of each ceiling measured in this process."""
    return {f"pct_{dtype}_ceiling": 100.0 * gflops / MEASURED[dtype] for dtype in MEASURED}


def run(args: argparse.Namespace) -> list[Row]:
    rows = []
    for dtype in DTYPES:
        logger.info("ceiling: %s matmul %dx%d", dtype, args.ceiling_size, args.ceiling_size)
        gflops = matmul_gflops(args.ceiling_size, dtype, args.ceiling_repeats)
        MEASURED[dtype] = gflops
        values = {"gflops": gflops, "size": float(args.ceiling_size), **thread_settings()}
        rows.append(Row(SECTION, f"matmul {dtype}", values, thread_note()))
    return rows
