"""Batch inference: every file of a folder through the served model, reported file by file.

Each file goes through :meth:`SketchToPhotoService.photograph`, the same call the served model
makes (the project's one preprocessing path, ONNX Runtime). A file that is not a usable sketch
(unreadable, empty, blank, too large, not an image) is skipped with its reason; the others
are written.
"""

from __future__ import annotations

import logging
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFont
from tqdm.auto import tqdm

from sketch_to_photo.datasets.sketch_folder_dataset import is_hidden
from sketch_to_photo.mlops.service import SketchToPhotoService
from sketch_to_photo.prediction.photograph import GUESSED, CategoryNeeded
from sketch_to_photo.prediction.preprocessing import SketchInputError, category_name

logger = logging.getLogger(__name__)

OK, SKIPPED = "ok", "skipped"
RESULT_COLUMNS = [
    "input", "status", "reason", "output", "category", "category_source", "confidence",
    "model", "generator", "ms",
]  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What became of one input file."""

    input: str  # the file, relative to the sketch folder
    status: str  # OK or SKIPPED
    model: str  # the registered version that made the photo
    generator: str  # the generator version inside it
    reason: str = ""  # why it was skipped
    output: str | None = None  # the photo's name in the output folder, without .png
    category: str | None = None
    category_source: str | None = None
    confidence: float | None = None
    ms: float | None = None  # decode + preprocess + classifier + generator
    sketch: np.ndarray | None = None  # (S, S, 3) uint8, what the generator saw
    photo: np.ndarray | None = None  # (S, S, 3) uint8


def _output_name(partition: str, taken: set[str]) -> str:
    """``ants/a.jpg`` -> ``ants/a``; a second ``a`` (``a.png`` beside ``a.jpg``) -> ``a_png``."""
    path = PurePosixPath(partition)
    name = str(path.with_suffix("")) if path.suffix else str(path)
    if name in taken:
        name = f"{name}_{path.suffix.lstrip('.') or 'file'}"
    taken.add(name)
    return name


def generate_photos(
    user_sketches: dict[str, Callable[[], bytes]],
    service_model: SketchToPhotoService,
    inference: dict[str, Any],
) -> list[Outcome]:
    """Photograph every file of the folder (hidden files aside), with a progress bar."""
    generator = service_model.generator
    category = inference.get("category") or None
    if category is not None:
        category = category_name(category, generator.categories)  # "teddy bear" -> teddy_bear
    if category is not None and category not in generator.categories:
        raise ValueError(
            f"inference.category is {category!r}, not one of the model's categories "
            f"{generator.categories}: set it to one of them, or to null for the classifier's guess"
        )
    model = service_model.registered_as or "unregistered"
    common = {"model": model, "generator": str(generator.version)}
    partitions = sorted(p for p in user_sketches if not is_hidden(p))
    logger.info(
        "Turning %d files into photos with %s (%s)", len(partitions), model, generator.version
    )
    outcomes, taken = [], set()
    for partition in tqdm(partitions, desc="sketches", unit="sketch"):
        started = time.perf_counter()
        try:
            data = user_sketches[partition]()
            result = service_model.photograph(data, category)
        except (SketchInputError, CategoryNeeded, OSError) as exc:
            outcomes.append(Outcome(partition, SKIPPED, reason=str(exc), **common))
            logger.warning("Skipped %s: %s", partition, exc)
            continue
        used = result.category or result.guess
        outcomes.append(
            Outcome(
                partition,
                OK,
                output=_output_name(partition, taken),
                category=used,
                category_source=result.category_source or (GUESSED if used else None),
                confidence=result.probabilities.get(used) if used else None,
                ms=(time.perf_counter() - started) * 1000,
                sketch=result.sketch,
                photo=result.photo,
                **common,
            )  # fmt: skip
        )
    done = [o for o in outcomes if o.status == OK]
    logger.info(
        "%d photos made, %d files skipped; %.1f ms per sketch",
        len(done), len(outcomes) - len(done),
        float(np.mean([o.ms for o in done])) if done else float("nan"),
    )  # fmt: skip
    if not done and outcomes:
        logger.warning("No file of the folder was a usable sketch: see inference_results.csv")
    return outcomes


def collect_photos(inference_outcomes: list[Outcome]) -> dict[str, Image.Image]:
    """The photos, keyed by output name (a PNG each in the output folder)."""
    return {
        o.output: Image.fromarray(o.photo)
        for o in inference_outcomes
        if o.status == OK and o.output is not None and o.photo is not None
    }


def tabulate_outcomes(inference_outcomes: list[Outcome]) -> pd.DataFrame:
    """One row per input file: status, reason, output, category used, confidence, model."""
    rows = [{column: getattr(o, column) for column in RESULT_COLUMNS} for o in inference_outcomes]
    table = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    table["confidence"] = table["confidence"].astype(float).round(4)
    table["ms"] = table["ms"].astype(float).round(1)
    return table


def draw_contact_sheet(inference_outcomes: list[Outcome], inference: dict[str, Any]) -> Image.Image:
    """sketch | photo tiles with the file name and the category used; skipped files last."""
    sheet = inference["contact_sheet"]
    cell, columns, limit = int(sheet["cell_px"]), int(sheet["columns"]), int(sheet["max_tiles"])
    made = [o for o in inference_outcomes if o.status == OK]
    skipped = [o for o in inference_outcomes if o.status != OK]
    # Skipped files keep up to a quarter of the tiles, so a long folder does not hide them.
    skipped_shown = skipped[: max(limit // 4, limit - len(made))]
    shown = made[: limit - len(skipped_shown)] + skipped_shown
    hidden = len(inference_outcomes) - len(shown)
    font = ImageFont.load_default(size=max(10, cell // 11))
    line = font.size + 3
    caption_h = 3 * line + 4
    tile_w, tile_h = 2 * cell + 12, cell + caption_h
    rows = max(1, -(-len(shown) // columns))
    footer = line + 8 if hidden or not shown else 0
    image = Image.new("RGB", (columns * tile_w + 8, rows * tile_h + footer + 8), "white")
    draw = ImageDraw.Draw(image)
    for i, outcome in enumerate(shown):
        x, y = 8 + (i % columns) * tile_w, 8 + (i // columns) * tile_h
        if outcome.status == OK:
            image.paste(_cell(outcome.sketch, cell), (x, y))
            image.paste(_cell(outcome.photo, cell), (x + cell + 2, y))
            confidence = f", {outcome.confidence:.0%}" if outcome.confidence is not None else ""
            label = f"{outcome.category or '?'} ({outcome.category_source or 'n/a'}{confidence})"
        else:
            draw.rectangle((x, y, x + 2 * cell + 2, y + cell), fill=(235, 235, 235))
            draw.multiline_text(
                (x + 6, y + 6), textwrap.fill(f"skipped: {outcome.reason}", 2 * cell // 7),
                fill=(150, 0, 0), font=ImageFont.load_default(size=10),
            )  # fmt: skip
            label = "no photo"
        draw.text((x, y + cell + 2), _fit(outcome.input, draw, font, 2 * cell), "black", font)
        draw.text((x, y + cell + 2 + line), _fit(label, draw, font, 2 * cell), (60, 60, 60), font)
    if footer:
        note = f"... and {hidden} more: see inference_results.csv" if shown else "no input files"
        draw.text((8, rows * tile_h + 8), note, "black", font)
    return image


def _cell(image: np.ndarray, size: int) -> Image.Image:
    return Image.fromarray(image).resize((size, size), Image.Resampling.NEAREST)


def _fit(text: str, draw: ImageDraw.ImageDraw, font: Any, width: int) -> str:
    """``text`` cut with an ellipsis to ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."
