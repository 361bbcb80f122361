"""The result grid: which test pairs it shows (a few photos per category), and the picture:
sketch | generated | real, a title with the headline scores and a caption per row."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from sketch_to_photo.evaluation.metric_names import PHOTO_KID
from sketch_to_photo.models.callbacks import caption_grid, render_grid

GRID_CELL = 128  # smallest cell of the result grid, in pixels


def grid_picks(
    grid_rows: list[dict[str, Any]], category: str, photo_ids: list[str], quota: int
) -> list[int]:
    """Which pairs of a batch go into the result grid: up to ``quota`` per category, one per
    photo (a photo has several sketches; the grid should show several photos)."""
    shown = {row["photo_id"] for row in grid_rows if row["category"] == category}
    room = quota - len(shown)
    picks: list[int] = []
    for i, photo_id in enumerate(photo_ids):
        if len(picks) >= room:
            break
        if photo_id not in shown:
            shown.add(photo_id)
            picks.append(i)
    return picks


def _kid(values: dict[str, Any]) -> str:
    kid = values.get(PHOTO_KID)
    return "n/a" if kid is None else f"{kid:.2f}"


def result_grid(
    grid_rows: list[dict[str, Any]], report: dict[str, Any], categories: dict[int, str]
) -> Image.Image:
    """sketch | generated | real, a title line with the headline scores and one caption per row."""
    # cells of at least GRID_CELL pixels (nearest-neighbour): a 64 px shape is visible
    factor = max(1, GRID_CELL // grid_rows[0]["sketch"].shape[0])
    grid = render_grid(
        *(
            np.stack([row[column] for row in grid_rows]).repeat(factor, 1).repeat(factor, 2)
            for column in ("sketch", "generated", "real")
        )
    )
    faith, model = report["faithfulness_table"], report["overall"]["model"]
    guessed = (
        f" (guessed category {faith['generated_guessed_category']:.0%})"
        if faith.get("generated_guessed_category") is not None
        else ""
    )
    real_photos, copy = report.get("real_photos", {}), report["overall"]["sketch_copy"]
    title = [
        f"faithfulness: generated {faith['generated']:.0%}{guessed} | real photos "
        f"{faith['real_photos']:.0%} | mean photo {faith['mean_photo']:.0%}",
        f"stroke recall {model['stroke_recall']:.2f} (real photos "
        f"{real_photos.get('stroke_recall', float('nan')):.2f}) | fill {model['fill']:.2f} "
        f"(real {real_photos.get('fill', float('nan')):.2f}, sketch copy {copy['fill']:.2f})",
        f"photo KID {_kid(model)} (real {_kid(real_photos)}, sketch copy {_kid(copy)}, "
        f"mean photo {_kid(report['overall']['mean_photo'])}) | L1 {model['l1']:.3f}",
    ]
    captions = []
    for row in grid_rows:
        verdict = "recognised" if row["judged"] == row["label"] else (
            f"judged {categories.get(row['judged'], row['judged'])}"
        )  # fmt: skip
        lines = [
            row["category"],
            f"generated: {verdict}",
            f"stroke recall {row['stroke_recall']:.2f}, fill {row['fill']:.2f}",
        ]
        if row["guess"] is not None:
            lines.append(f"guessed: {categories.get(row['guess'], row['guess'])}")
        captions.append(lines)
    return Image.fromarray(
        caption_grid(grid, grid_rows[0]["sketch"].shape[0] * factor, title, captions)
    )
