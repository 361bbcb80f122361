"""Keras callbacks that record training in the active MLflow run: metrics and sample grids
(and one that logs a fit's progress).

Both only log when an MLflow run is active (``mlflow.log_*`` would otherwise start a new run
of its own), so the same training code runs inside ``kedro run`` with kedro-mlflow and in a
plain notebook or test without a tracking server.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import keras
import mlflow
import numpy as np
from PIL import Image

from sketch_to_photo.prediction.preprocessing import to_uint8

logger = logging.getLogger(__name__)

GUTTER = 4  # white pixels around and between the cells of a grid
TITLE_HEIGHT = 18  # white band above the columns holding their titles
MAX_SAMPLES = 8


class MlflowMetricsLogger(keras.callbacks.Callback):
    """Log every epoch's ``logs`` and its duration (``epoch_seconds``) with ``step=epoch``.

    A failed logging call (tracking server down) is reported as a warning instead of ending a
    long training run.
    """

    def __init__(self, prefix: str = "") -> None:
        super().__init__()
        self.prefix = prefix
        self._epoch_start: float | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if mlflow.active_run() is None:
            return
        metrics = {}
        for key, value in (logs or {}).items():
            scalar = _as_float(value)
            if scalar is not None:
                metrics[f"{self.prefix}{key}"] = scalar
        if self._epoch_start is not None:
            metrics[f"{self.prefix}epoch_seconds"] = time.perf_counter() - self._epoch_start
        try:
            mlflow.log_metrics(metrics, step=epoch)
        except Exception as exc:  # keep training: the warning says what was lost
            logger.warning("Could not log epoch %d metrics to MLflow: %s", epoch, exc)


class ProgressLogger(keras.callbacks.Callback):
    """Log a line with the epoch's metrics on the first and last epoch and about every tenth
    of the run in between, so a fit with ``verbose=0`` still shows in the log that it works."""

    def __init__(self, label: str, epochs: int, lines: int = 10) -> None:
        super().__init__()
        self.label, self.epochs, self.every = label, epochs, max(1, epochs // max(lines, 1))
        self._started = time.perf_counter()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        done = epoch + 1
        if done not in (1, self.epochs) and done % self.every:
            return
        values = ((key, _as_float(value)) for key, value in sorted((logs or {}).items()))
        shown = ", ".join(f"{key} {value:.4g}" for key, value in values if value is not None)
        logger.info(
            "%s: epoch %d/%d%s (%.1f s)", self.label, done, self.epochs,
            f": {shown}" if shown else "", time.perf_counter() - self._started,
        )  # fmt: skip


class LinearLearningRateDecay(keras.callbacks.Callback):
    """pix2pix's schedule for both GAN optimizers: the initial rate for the first
    ``hold_fraction`` of the epochs, then a straight line towards zero (the last epoch gets
    ``1 / decay_epochs`` of it).

    The rate follows from the epoch number alone, so a run resumed from its backup continues
    on the same line. Each epoch's rate is added to ``logs`` as ``learning_rate``. The
    discriminator's optimizer follows the same line from its own ``discriminator_rate`` (the
    generator's when not given).
    """

    def __init__(
        self,
        initial_rate: float,
        epochs: int,
        hold_fraction: float = 0.5,
        discriminator_rate: float | None = None,
    ) -> None:
        super().__init__()
        self.initial_rate = float(initial_rate)
        self.discriminator_rate = float(
            initial_rate if discriminator_rate is None else discriminator_rate
        )
        self.epochs = int(epochs)
        self.hold_epochs = int(round(self.epochs * hold_fraction))

    def rate(self, epoch: int) -> float:
        decay_epochs = self.epochs - self.hold_epochs
        if epoch < self.hold_epochs or decay_epochs <= 0:
            return self.initial_rate
        return self.initial_rate * (1.0 - (epoch - self.hold_epochs) / decay_epochs)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        rate = self.rate(epoch)
        self.model.g_optimizer.learning_rate.assign(rate)
        discriminator_rate = rate * self.discriminator_rate / self.initial_rate
        self.model.d_optimizer.learning_rate.assign(discriminator_rate)
        if self.model.critic_optimizer is not None:  # the category critic learns at D's rate
            self.model.critic_optimizer.learning_rate.assign(discriminator_rate)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = self.rate(epoch)


class RealShareSchedule(keras.callbacks.Callback):
    """Moves the share of real sketch pairs in the training stream (a variable the input
    pipeline reads) linearly from ``start`` in the first epoch to ``end`` in the last
    (SketchyGAN's curriculum: aligned edge maps first, real sketches more and more).

    The share follows from the epoch number alone, so a resumed run continues on the same line;
    each epoch's share is added to ``logs`` as ``real_share``.
    """

    def __init__(self, variable: Any, start: float, end: float, epochs: int) -> None:
        super().__init__()
        self.variable, self.start, self.end, self.epochs = variable, start, end, int(epochs)

    def share(self, epoch: int) -> float:
        progress = epoch / (self.epochs - 1) if self.epochs > 1 else 1.0
        return self.start + (self.end - self.start) * progress

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.variable.assign(self.share(epoch))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["real_share"] = self.share(epoch)


class GeneratorAverage(keras.callbacks.Callback):
    """At the end of training, the generator takes the exponential moving average of its
    weights that its optimizer kept (``use_ema``), instead of the last step's weights: a GAN's
    generator oscillates from step to step, and the average is steadier (ProGAN, StyleGAN).

    Listed before the sample grids, so the final grid shows the averaged generator; the
    per-epoch grids, validation losses and checkpoints show the weights being trained.
    """

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        optimizer = self.model.g_optimizer
        # a LossScaleOptimizer (mixed_float16) keeps the average in the optimizer it wraps
        if not getattr(getattr(optimizer, "inner_optimizer", optimizer), "use_ema", False):
            raise ValueError("GeneratorAverage needs a generator optimizer built with use_ema=True")
        optimizer.finalize_variable_values(self.model.generator.trainable_variables)


class SampleGridLogger(keras.callbacks.Callback):
    """Every ``every_n_epochs`` epochs and after the last one, save a sketch|generated|real grid.

    The PNG goes to ``output_dir/grid_epoch_{epoch:04d}.png`` (1-based epoch) and, when an MLflow
    run is active, into the run's artifacts under ``artifact_path``. The generator is
    ``model.generator`` when the model has one (a GAN), else the model itself, run with
    ``training=False``.
    """

    def __init__(
        self,
        sketches: np.ndarray,
        photos: np.ndarray,
        every_n_epochs: int,
        output_dir: str | os.PathLike,
        artifact_path: str = "samples",
        categories: np.ndarray | None = None,
    ) -> None:
        """``categories``: the one-hot categories a class-aware generator also takes."""
        super().__init__()
        sketches = np.asarray(sketches, dtype=np.float32)
        photos = np.asarray(photos, dtype=np.float32)
        if sketches.ndim != 4 or sketches.shape[-1] != 3 or sketches.shape != photos.shape:
            raise ValueError(
                f"sketches and photos must both be (N, S, S, 3), got {sketches.shape} and "
                f"{photos.shape}"
            )
        if not 1 <= len(sketches) <= MAX_SAMPLES:
            raise ValueError(f"give 1 to {MAX_SAMPLES} samples, got {len(sketches)}")
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be at least 1, got {every_n_epochs}")
        self.sketches = sketches
        self.photos = photos
        self.categories = None if categories is None else np.asarray(categories, np.float32)
        self.every_n_epochs = every_n_epochs
        self.output_dir = Path(output_dir)
        self.artifact_path = artifact_path
        self.saved: list[Path] = []
        self._last_epoch: int | None = None
        self._last_rendered: int | None = None

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._last_epoch = self._last_rendered = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._last_epoch = epoch
        if (epoch + 1) % self.every_n_epochs == 0:
            self.log_grid(epoch)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._last_epoch is not None and self._last_rendered != self._last_epoch:
            self.log_grid(self._last_epoch)

    def log_grid(self, epoch: int) -> Path:
        """Render, save and (with an active run) log the grid for 0-based ``epoch``."""
        generator = getattr(self.model, "generator", None)
        if generator is None:
            generator = self.model
        inputs = self.sketches if self.categories is None else [self.sketches, self.categories]
        generated = to_uint8(generator(inputs, training=False))
        grid = render_grid(to_uint8(self.sketches), generated, to_uint8(self.photos))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / f"grid_epoch_{epoch + 1:04d}.png"
        Image.fromarray(grid).save(path)
        self._last_rendered = epoch
        self.saved.append(path)
        if mlflow.active_run() is not None:
            try:
                mlflow.log_artifact(str(path), self.artifact_path)
            except Exception as exc:  # the grid stays on disk: keep training
                logger.warning("Could not log %s to MLflow: %s", path, exc)
        return path


class GeneratorCheckpoint(keras.callbacks.Callback):
    """Save the generator as ``.keras`` every ``every`` epochs (the seed kept one per 10)."""

    def __init__(self, directory: Path, every: int) -> None:
        super().__init__()
        self.directory, self.every = directory, every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.every > 0 and (epoch + 1) % self.every == 0:
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"generator_epoch_{epoch + 1:04d}.keras"
            self.model.generator.save(path)


def render_grid(
    sketches_uint8: np.ndarray,
    generated_uint8: np.ndarray,
    photos_uint8: np.ndarray,
    titles: Sequence[str] = ("sketch", "generated", "real"),
) -> np.ndarray:
    """One row per example, one column per input, white gutters, titles above the columns.

    Inputs are (N,S,S,3) uint8 of one shape; the result is (TITLE_HEIGHT + N*(S+GUTTER) +
    GUTTER, 3*(S+GUTTER) + GUTTER, 3) uint8.
    """
    columns = [np.asarray(a) for a in (sketches_uint8, generated_uint8, photos_uint8)]
    shape = columns[0].shape
    if any(c.shape != shape or c.dtype != np.uint8 for c in columns) or len(shape) != 4:
        raise ValueError(
            "render_grid wants three (N, S, S, 3) uint8 arrays of one shape, got "
            + ", ".join(f"{c.shape} {c.dtype}" for c in columns)
        )
    if len(titles) != len(columns):
        raise ValueError(f"give {len(columns)} titles, got {len(titles)}")
    n, height, width = shape[:3]
    step_y, step_x = height + GUTTER, width + GUTTER
    grid = np.full(
        (TITLE_HEIGHT + n * step_y + GUTTER, len(columns) * step_x + GUTTER, 3), 255, np.uint8
    )
    for col, images in enumerate(columns):
        x = GUTTER + col * step_x
        for row, image in enumerate(images):
            y = TITLE_HEIGHT + GUTTER + row * step_y
            grid[y : y + height, x : x + width] = image
        _put_title(grid, titles[col], x, width)
    return grid


CAPTION_LINE = 14  # pixels per line of caption_grid's text


def caption_grid(
    grid: np.ndarray,
    image_size: int,
    title: Sequence[str],
    row_captions: Sequence[Sequence[str]],
) -> np.ndarray:
    """Add title lines above a :func:`render_grid` grid and caption lines right of each row.

    ``image_size`` is the grid's cell size; ``row_captions[i]`` are the lines written beside
    row ``i``. The canvas widens to fit the longest line; the result is (H, W, 3) uint8.
    """
    font, scale, thickness = cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1

    def text_width(text: str) -> int:
        return cv2.getTextSize(text, font, scale, thickness)[0][0]

    rows = (grid.shape[0] - TITLE_HEIGHT - GUTTER) // (image_size + GUTTER)
    if len(row_captions) != rows:
        raise ValueError(f"the grid has {rows} rows, got {len(row_captions)} row captions")
    caption_width = max((text_width(line) for lines in row_captions for line in lines), default=0)
    band = caption_width + 2 * GUTTER if caption_width else 0
    width = max(grid.shape[1] + band, max((text_width(t) for t in title), default=0) + 2 * GUTTER)
    top = len(title) * CAPTION_LINE + (GUTTER if title else 0)
    canvas = np.full((top + grid.shape[0], width, 3), 255, np.uint8)
    canvas[top:, : grid.shape[1]] = grid
    for i, line in enumerate(title):
        origin = (GUTTER, GUTTER + (i + 1) * CAPTION_LINE - 4)
        cv2.putText(canvas, line, origin, font, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    for row, lines in enumerate(row_captions):
        y = top + TITLE_HEIGHT + GUTTER + row * (image_size + GUTTER)
        for i, line in enumerate(lines):
            origin = (grid.shape[1] + GUTTER, y + (i + 1) * CAPTION_LINE - 4)
            cv2.putText(canvas, line, origin, font, scale, (0, 0, 0), thickness, cv2.LINE_AA)
    return canvas


def _put_title(grid: np.ndarray, text: str, x: int, width: int) -> None:
    font, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1
    scale = 0.45
    (text_width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    if text_width > width:  # shrink to the column, but stay readable
        scale = max(0.25, scale * width / text_width)
        (text_width, _), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = (x + max(0, (width - text_width) // 2), TITLE_HEIGHT - 5)
    cv2.putText(grid, text, origin, font, scale, (0, 0, 0), thickness, cv2.LINE_AA)


def _as_float(value: Any) -> float | None:
    """A Python float for a scalar log value (number, NumPy or tensor), else None."""
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    except (TypeError, ValueError):
        return None
    if array.size != 1 or not np.issubdtype(array.dtype, np.number):
        return None
    return float(array.reshape(()))
