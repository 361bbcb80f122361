"""Benchmark section ``streaming``: training on npz shards that together exceed what it holds.

1. Writes a generated set of pair shards (default 20,000 pairs at 256 px, 1,000 per shard as
   ``shards.max_pairs_per_shard``) with the pipeline's shard names and array keys. The pairs come
   from a few hundred drawn sketch/photo pairs, each reused with a random shift, colour change
   and photo noise, so that compression cannot make the files trivially small.
2. In a fresh process: one full pass of the training input (:func:`pair_dataset` in training
   mode: shuffled shards, shuffle buffer, jitter, flip, batching) over every pair.
3. In another fresh process: a short training of a small pix2pix on that stream.

Each measurement runs in its own spawned process so that its peak resident memory
(resident memory sampled after every batch) is that of the phase alone. (``ru_maxrss`` would
not do: Linux carries the forking parent's high-water mark across ``exec``.) The set is deleted
afterwards unless ``--streaming-keep``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import cv2
import keras
import numpy as np
import psutil

from sketch_to_photo.data.pairs import shard_name
from sketch_to_photo.datasets import NpzShardsDataset, ShardLoaders
from sketch_to_photo.models import Pix2Pix, build_discriminator, build_generator
from sketch_to_photo.models.data import pair_dataset
from sketch_to_photo.tools.benchmark.report import Row
from sketch_to_photo.utils.atomic import atomic_file

logger = logging.getLogger(__name__)

SECTION = "streaming"
BASE_PAIRS = 256  # drawn pairs the generated set is derived from
CATEGORIES = ("bench_a", "bench_b", "bench_c", "bench_d")
MIB = 1024 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("streaming (training input larger than memory)")
    group.add_argument("--streaming-pairs", type=int, default=20_000, help="pairs to generate")
    group.add_argument("--streaming-size", type=int, default=256, help="image size in pixels")
    group.add_argument(
        "--streaming-pairs-per-shard", type=int, default=1000,
        help="pairs per npz shard (the pipeline's shards.max_pairs_per_shard)",
    )  # fmt: skip
    group.add_argument(
        "--streaming-shuffle-buffer", type=int, default=512,
        help="pairs in the shuffle buffer (training.shuffle_buffer)",
    )  # fmt: skip
    group.add_argument("--streaming-batch", type=int, default=8, help="batch size")
    group.add_argument(
        "--streaming-train-steps", type=int, default=300, help="steps of the short training"
    )
    group.add_argument(
        "--streaming-base-filters", type=int, default=8, help="width of the small pix2pix"
    )
    group.add_argument(
        "--streaming-dir", type=Path, default=None,
        help="where to write the shards (default: a new temporary folder)",
    )  # fmt: skip
    group.add_argument(
        "--streaming-keep", action="store_true", help="keep the shards instead of deleting them"
    )
    group.add_argument(
        "--streaming-quick", action="store_true",
        help="tiny sizes (240 pairs at 64 px, 10 steps) to check that the section works",
    )  # fmt: skip


def run(args: argparse.Namespace) -> list[Row]:
    settings = _settings(args)
    _check(settings)
    directory = settings["dir"] or Path(tempfile.mkdtemp(prefix="sketch_to_photo_streaming_"))
    try:
        return _run(directory, settings)
    finally:
        if settings["keep"]:
            _progress(f"streaming: shards kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    settings = {
        "pairs": args.streaming_pairs,
        "size": args.streaming_size,
        "pairs_per_shard": args.streaming_pairs_per_shard,
        "shuffle_buffer": args.streaming_shuffle_buffer,
        "batch": args.streaming_batch,
        "steps": args.streaming_train_steps,
        "base_filters": args.streaming_base_filters,
        "dir": args.streaming_dir,
        "keep": args.streaming_keep,
    }
    if args.streaming_quick:
        settings.update(pairs=240, size=64, pairs_per_shard=40, shuffle_buffer=32, steps=10)
    return settings


def _check(settings: dict[str, Any]) -> None:
    size = settings["size"]
    if size < 32 or size & (size - 1):
        raise ValueError(f"--streaming-size must be a power of 2 >= 32, got {size}")
    for key in ("pairs", "pairs_per_shard", "batch", "steps", "base_filters"):
        if settings[key] < 1:
            raise ValueError(f"--streaming-{key.replace('_', '-')} must be >= 1")
    if settings["pairs"] < settings["batch"]:
        raise ValueError("--streaming-pairs must be at least --streaming-batch")


def _run(directory: Path, settings: dict[str, Any]) -> list[Row]:
    started = time.perf_counter()
    paths, uncompressed = write_synthetic_shards(
        directory, settings["pairs"], settings["size"], settings["pairs_per_shard"]
    )
    generate_seconds = time.perf_counter() - started
    disk = sum(path.stat().st_size for path in paths)
    rows = [
        Row(
            SECTION,
            f"generate {settings['pairs']} pairs {settings['size']}px",
            {
                "pairs": settings["pairs"],
                "shards": len(paths),
                "disk_MB": disk / MIB,
                "uncompressed_MB": uncompressed / MIB,
                "seconds": generate_seconds,
            },
            note="npz shards, pipeline keys",
        )
    ]
    # A fresh spawned process: its memory is that of the measurement, not of the
    # generation above. The input pass runs first, so the training's peak includes it.
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        input_pass, training = pool.submit(_measure_stream, directory, settings).result()
    rows.append(
        Row(
            SECTION,
            "input pass (training mode)",
            {
                "pairs_per_s": input_pass["pairs"] / input_pass["seconds"],
                "seconds": input_pass["seconds"],
                "peak_rss_MB": input_pass["peak_rss"] / MIB,
                "rss_after_import_MB": input_pass["baseline_rss"] / MIB,
                "peak_over_data": input_pass["peak_rss"] / uncompressed,
            },
            note=f"shuffle buffer {settings['shuffle_buffer']}, batch {settings['batch']}",
        )
    )
    rows.append(
        Row(
            SECTION,
            f"train pix2pix base {settings['base_filters']} on the stream",
            {
                "steps": training["steps"],
                "ms_per_step": 1000 * training["seconds"] / training["steps"],
                "peak_rss_MB": training["peak_rss"] / MIB,
                "g_l1_first": training["g_l1_first"],
                "g_l1_last": training["g_l1_last"],
            },
            note=f"batch {settings['batch']}, no perceptual term, same process as the pass",
        )
    )
    return rows


def write_synthetic_shards(
    directory: Path, n_pairs: int, image_size: int, pairs_per_shard: int, seed: int = 0
) -> tuple[list[Path], int]:
    """Write ``n_pairs`` generated pairs as ``train/<category>-NNNNN.npz`` shards.

    Returns the shard files and the uncompressed size of their arrays in bytes. Memory holds
    one shard at a time.
    """
    rng = np.random.default_rng(seed)
    base_sketches, base_photos, base_masks = _base_pairs(min(BASE_PAIRS, n_pairs), image_size, rng)
    paths, uncompressed, written = [], 0, 0
    number_per_category = dict.fromkeys(CATEGORIES, 0)
    while written < n_pairs:
        count = min(pairs_per_shard, n_pairs - written)
        category = CATEGORIES[len(paths) % len(CATEGORIES)]
        arrays = _shard_arrays(
            base_sketches, base_photos, base_masks, category, written, count, len(paths), rng
        )
        path = directory / f"{shard_name('train', category, number_per_category[category])}.npz"
        with atomic_file(path, suffix=".npz") as tmp:
            np.savez_compressed(tmp, **arrays)
        number_per_category[category] += 1
        paths.append(path)
        uncompressed += sum(array.nbytes for array in arrays.values())
        written += count
        if len(paths) % 5 == 0:
            _progress(f"streaming: {written}/{n_pairs} pairs written")
    return paths, uncompressed


def _base_pairs(
    count: int, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Drawn pairs: black outlines on white, and the same shapes filled in colour on texture."""
    sketches = np.full((count, size, size, 3), 255, np.uint8)
    photos = np.empty((count, size, size, 3), np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    for i in range(count):
        background = rng.uniform(60, 230, 3) * (0.6 + 0.4 * ramp[:, None, None])
        photos[i] = background.astype(np.uint8)
        for _ in range(int(rng.integers(1, 4))):
            center = tuple(int(v) for v in rng.integers(size // 5, 4 * size // 5, 2))
            axes = tuple(int(v) for v in rng.integers(size // 10, size // 3, 2))
            angle = float(rng.uniform(0, 180))
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            cv2.ellipse(photos[i], center, axes, angle, 0, 360, colour, -1)
            cv2.ellipse(masks[i], center, axes, angle, 0, 360, 1, -1)
            thickness = max(1, size // 128)
            cv2.ellipse(sketches[i], center, axes, angle, 0, 360, (0, 0, 0), thickness)
    return sketches, photos, masks


def _shard_arrays(
    base_sketches: np.ndarray,
    base_photos: np.ndarray,
    base_masks: np.ndarray,
    category: str,
    first: int,
    count: int,
    shard_number: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One shard with the pipeline's keys; each pair a shifted, recoloured base pair."""
    size = base_sketches.shape[1]
    sketches = np.empty((count, size, size, 3), np.uint8)
    photos = np.empty_like(sketches)
    masks = np.empty((count, size, size), np.uint8)
    for j in range(count):
        k = int(rng.integers(len(base_sketches)))
        shift = tuple(int(v) for v in rng.integers(-size // 8, size // 8 + 1, 2))
        sketches[j] = np.roll(base_sketches[k], shift, axis=(0, 1))
        masks[j] = np.roll(base_masks[k], shift, axis=(0, 1))
        photo = np.roll(base_photos[k], shift, axis=(0, 1))[..., rng.permutation(3)]
        noise = rng.integers(-12, 13, photo.shape, dtype=np.int16)  # camera-like grain
        photos[j] = np.clip(photo.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    ids = [f"{category}_{first + j}" for j in range(count)]
    return {
        "sketches": sketches,
        "photos": photos,
        "masks": masks,
        "sketch_ids": np.array([f"{i}-1" for i in ids], dtype=np.str_),
        "photo_ids": np.array(ids, dtype=np.str_),
        "categories": np.array([category] * count, dtype=np.str_),
        "labels": np.full(count, CATEGORIES.index(category), np.int16),
        "segmentation_fallback": np.zeros(count, bool),
        "dropped_unreadable_ids": np.array([], dtype=np.str_),
        "dropped_segmentation_ids": np.array([], dtype=np.str_),
    }


def _measure_stream(
    directory: Path, settings: dict[str, Any]
) -> tuple[dict[str, float], dict[str, float]]:
    """Run in a fresh process: the input pass, then the short training, on the shards in
    ``directory`` as the catalog's ``NpzShardsDataset`` loads them."""
    shards = NpzShardsDataset(path=str(directory)).load()
    input_pass = _input_pass(shards, settings)
    _progress(f"streaming: training a small pix2pix for {settings['steps']} steps")
    return input_pass, _short_training(shards, settings)


def _input_pass(shards: ShardLoaders, settings: dict[str, Any]) -> dict[str, float]:
    """Iterate the training input once over every pair."""
    _progress("streaming: one pass of the training input over every pair")
    dataset = pair_dataset(
        shards,
        image_size=settings["size"],
        batch_size=settings["batch"],
        training=True,
        shuffle_buffer=settings["shuffle_buffer"],
    )
    process = psutil.Process()
    baseline = peak = process.memory_info().rss
    started, pairs = time.perf_counter(), 0
    for sketches, _photos in dataset:
        pairs += int(sketches.shape[0])
        peak = max(peak, process.memory_info().rss)
    return {
        "pairs": pairs,
        "seconds": time.perf_counter() - started,
        "baseline_rss": baseline,
        "peak_rss": peak,
    }


class _PeakRss(keras.callbacks.Callback):
    """Resident memory sampled after every training batch (its maximum)."""

    def __init__(self) -> None:
        super().__init__()
        self.process = psutil.Process()
        self.peak = self.process.memory_info().rss

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.peak = max(self.peak, self.process.memory_info().rss)


def _short_training(shards: ShardLoaders, settings: dict[str, Any]) -> dict[str, float]:
    """A small pix2pix trained for a few hundred steps on the stream."""
    keras.utils.set_random_seed(0)
    size, width = settings["size"], settings["base_filters"]
    model = Pix2Pix(build_generator(size, width), build_discriminator(size, width))
    model.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    dataset = pair_dataset(
        shards,
        image_size=size,
        batch_size=settings["batch"],
        training=True,
        shuffle_buffer=settings["shuffle_buffer"],
        drop_remainder=True,
    ).repeat()  # as many steps as asked, whatever the set's size
    steps = settings["steps"]
    report_every = max(1, steps // 10)  # loss per chunk of steps: the first and the last
    started, peak = time.perf_counter(), _PeakRss()
    history = model.fit(
        dataset, epochs=steps // report_every, steps_per_epoch=report_every, verbose=0,
        callbacks=[peak],
    )  # fmt: skip
    seconds = time.perf_counter() - started
    l1 = history.history["g_l1"]
    return {
        "steps": report_every * (steps // report_every),
        "seconds": seconds,
        "peak_rss": peak.peak,
        "g_l1_first": float(l1[0]),
        "g_l1_last": float(l1[-1]),
    }


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
