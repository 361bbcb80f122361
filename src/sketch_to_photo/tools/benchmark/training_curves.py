"""The training benchmark's quality check: the reference and the recommended setting trained
from the same seed over the same images in the same order, their training L1 against images
seen, the held-out L1 at the end, and the plot of both curves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from sketch_to_photo.tools.benchmark.reference import TutorialPix2Pix
from sketch_to_photo.tools.benchmark.training_pairs import pair_pipeline
from sketch_to_photo.tools.benchmark.training_speed import Setting, build_project_model
from sketch_to_photo.utils.atomic import atomic_file

matplotlib.use("Agg")  # files only, never a window

CURVE_CHUNK_IMAGES = 32  # the loss curves average the training L1 over this many images


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
