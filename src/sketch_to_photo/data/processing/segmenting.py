"""Segmenting the indexed photos: each photo's object cut out onto white by GrabCut
(:mod:`sketch_to_photo.data.segmentation`), one lazily computed, resumable shard per photo folder
and category."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from sketch_to_photo.data.processing.fingerprints import fingerprint
from sketch_to_photo.data.segmentation.boxes import BBox
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.files import segment_files
from sketch_to_photo.datasets import ResumableShard, SketchyTree

logger = logging.getLogger(__name__)


def _init_box(row: Any, init: str) -> tuple[str, BBox | None]:
    """Where GrabCut starts for a photo-index row: its bbox, its sketch extent or the inset."""
    if not np.isnan(row.bbox_x):
        return "bbox", (row.bbox_x, row.bbox_y, row.bbox_width, row.bbox_height)
    if init == "sketch_extent" and not np.isnan(row.sketch_x):
        return "sketch_extent", (row.sketch_x, row.sketch_y, row.sketch_width, row.sketch_height)
    return "inset", None


def _segment_group(
    tree: SketchyTree, group: pd.DataFrame, config: SegmentationConfig, workers: int, label: str
) -> dict[str, np.ndarray]:
    starts = [_init_box(row, config.init) for row in group.itertuples(index=False)]
    tasks = [
        (tree.loader(path), box) for path, (_, box) in zip(group["photo_path"], starts, strict=True)
    ]
    results = tqdm(
        segment_files(tasks, config, workers),
        total=len(tasks),
        desc=f"segment {label}",
        unit="photo",
    )
    ids, cutouts, masks, reasons, retry_reasons, areas, unreadable = [], [], [], [], [], [], []
    inits, boxes = [], []
    for photo_id, (init, box), result in zip(group["photo_id"], starts, results, strict=True):
        if result is None:
            unreadable.append(photo_id)
            continue
        ids.append(photo_id)
        cutouts.append(result.cutout)
        masks.append(result.mask)
        reasons.append(result.failure_reason)
        retry_reasons.append(result.retry_reason)
        areas.append(result.area_fraction)
        inits.append(f"{init}_then_inset" if result.inset_retry else init)
        boxes.append((np.nan,) * 4 if box is None else box)
    if unreadable:
        logger.warning(
            "%s: %d photo(s) missing or unreadable: %s",
            label,
            len(unreadable),
            ", ".join(unreadable),
        )
    failures = pd.Series([r for r in reasons if r], dtype=object).value_counts().to_dict()
    logger.info(
        "%s: %d of %d segmentations failed %s", label, sum(failures.values()), len(ids), failures
    )
    size = cutouts[0].shape[:2] if cutouts else (256, 256)
    return {
        "photo_ids": np.array(ids, dtype=np.str_),
        "photos": np.stack(cutouts) if cutouts else np.zeros((0, *size, 3), np.uint8),
        "masks": np.stack(masks) if masks else np.zeros((0, *size), np.uint8),
        "segmentation_failed": np.array([bool(r) for r in reasons], dtype=bool),
        "failure_reason": np.array(reasons, dtype=np.str_),  # "" or a key of FAILURE_REASONS
        # failed from the box and from the inset rectangle: why the latter failed, else ""
        "retry_failure_reason": np.array(retry_reasons, dtype=np.str_),
        "mask_area": np.array(areas, dtype=np.float32),
        # bbox, sketch_extent or inset; <box>_then_inset: the box's cut failed, the inset's passed
        "init": np.array(inits, dtype=np.str_),
        "init_box": np.array(boxes, dtype=np.float32).reshape(-1, 4),  # fractions; NaN: inset
        "unreadable_photo_ids": np.array(unreadable, dtype=np.str_),
    }


def segment_photos(
    photos: pd.DataFrame, sketchy_raw: SketchyTree, config: SegmentationConfig, workers: int
) -> dict[str, ResumableShard]:
    """Cut each photo's object out onto white with ``workers`` processes; one lazily computed
    shard per folder/category.

    Each shard is resumable (:class:`ResumableShard`): a category segmented before with the
    same photos, boxes and settings is reused, after a crash or in a later run."""
    photos = photos[photos["has_valid_sketch"]]
    logger.info("Segmenting %d photos with %d worker process(es)", len(photos), workers)
    shards = {}
    for (augmentation, category), group in photos.groupby(
        ["photo_augmentation", "category"], sort=True
    ):
        label = f"{augmentation}/{category}"
        starts = [_init_box(row, config.init) for row in group.itertuples(index=False)]
        shards[label] = ResumableShard(
            fingerprint(
                asdict(config), list(group["photo_id"]), list(group["photo_path"]), starts,
                versions=map(sketchy_raw.version, group["photo_path"]),
            ),
            lambda group=group, label=label: _segment_group(
                sketchy_raw, group, config, workers, label
            ),
        )  # fmt: skip
    return shards
