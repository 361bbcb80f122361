"""The data pipeline's picture checks: the segmentation grid (photo with GrabCut's box | mask
| cut-out, failures captioned) and the edge-map grid (photo | edge map | a real sketch)."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from sketch_to_photo.data.pairs import first_of_each_photo, split_and_category, split_shards
from sketch_to_photo.datasets import LazyNpz, ShardLoaders, SketchyTree
from sketch_to_photo.models.callbacks import caption_grid, render_grid

matplotlib.use("Agg")


def segmentation_grid(
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    photos: pd.DataFrame,
    sketchy_raw: SketchyTree,
    per_shard: int,
    max_failed: int,
    fallback: str = "keep_photo",
) -> Figure:
    """Before/after figure: photo (GrabCut's box in blue) | mask | cut-out, ``per_shard``
    per category plus up to ``max_failed`` failures, captioned with the failure reason and
    what becomes of their pairs (``fallback``, ``shards.segmentation_fallback``)."""
    failed_title = "fallback: kept photo" if fallback == "keep_photo" else "failed: pairs dropped"
    paths = photos.set_index(["photo_augmentation", "category", "photo_id"])["photo_path"]
    rows: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, str, float, np.ndarray]] = []
    failed_rows = []
    for segmented_name, load in segmented_photos.items():
        shard = load()
        ids, failed, areas = shard["photo_ids"], shard["segmentation_failed"], shard["mask_area"]
        chosen = list(range(min(per_shard, len(ids))))
        wanted = chosen + [i for i in np.flatnonzero(failed) if i not in chosen]
        if not wanted:
            continue
        cutouts, masks = shard["photos"], shard["masks"]
        reasons, boxes = shard["failure_reason"], shard["init_box"]
        augmentation, category = segmented_name.split("/", 1)
        for i in wanted:
            original = sketchy_raw.image(paths[(augmentation, category, ids[i])])
            row = (
                f"{category}\n{ids[i]}",
                original,
                masks[i],
                cutouts[i],
                str(reasons[i]),
                float(areas[i]),
                boxes[i],
            )
            (failed_rows if i not in chosen else rows).append(row)
    rows += failed_rows[:max_failed]
    figure = Figure(figsize=(7.5, 2.5 * max(1, len(rows))), dpi=80, layout="constrained")
    if not rows:
        figure.text(0.5, 0.5, "no photos were segmented", ha="center")
        return figure
    axes = figure.subplots(len(rows), 3, squeeze=False)
    for r, (title, original, mask, cutout, reason, area, box) in enumerate(rows):
        panels = (original, mask * 255, cutout)
        names = (
            "photo",
            f"mask ({area:.0%}){': ' + reason if reason else ''}",
            failed_title if reason else "cut-out",
        )
        for c, (image, name) in enumerate(zip(panels, names, strict=True)):
            ax = axes[r][c]
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(name, fontsize=9, color="red" if reason else "black")
        if not np.isnan(box).any():
            height, width = original.shape[:2]
            x, y, w, h = box * (width, height, width, height)
            axes[r][0].add_patch(Rectangle((x, y), w, h, fill=False, edgecolor="blue", lw=1))
        axes[r][0].set_ylabel(title, fontsize=8)
    return figure


def edge_map_grid(
    edge_map_shards: ShardLoaders, pair_shards: ShardLoaders, per_category: int
) -> Image.Image:
    """photo | edge map | a real sketch of the same photo, ``per_category`` photos per
    category."""
    real_sketches: dict[str, np.ndarray] = {}
    for load in split_shards(pair_shards, "train").values():
        pairs = load()
        photo_ids = pairs["photo_ids"]
        wanted = np.flatnonzero(first_of_each_photo(photo_ids))
        sketches = pairs["sketches"]  # read once: each access of a lazy shard decodes it
        for i in wanted:
            real_sketches.setdefault(str(photo_ids[i]), sketches[i].copy())  # not a view of all
    photos, edges, sketches, captions = [], [], [], []
    shown: dict[str, int] = {}
    for name, load in sorted(edge_map_shards.items()):
        category = split_and_category(name)[1]
        shard = load()
        take = max(0, min(per_category - shown.get(category, 0), len(shard["photo_ids"])))
        shown[category] = shown.get(category, 0) + take
        shard_photos, shard_edges = shard["photos"][:take], shard["sketches"][:take]
        for i, photo_id in enumerate(shard["photo_ids"][:take].tolist()):
            photos.append(shard_photos[i])
            edges.append(shard_edges[i])
            sketches.append(real_sketches.get(photo_id, np.full_like(shard_edges[i], 255)))
            captions.append([category, photo_id])
    if not photos:
        return Image.fromarray(np.full((64, 320, 3), 255, np.uint8))
    size = photos[0].shape[0]
    grid = render_grid(
        np.stack(photos),
        np.stack(edges),
        np.stack(sketches),
        ("photo", "edge map", "a real sketch"),
    )
    title = ["Training inputs: the edge map is aligned with the photo; real sketches are not"]
    return Image.fromarray(caption_grid(grid, size, title, captions))
