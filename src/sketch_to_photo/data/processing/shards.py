"""The pair shards: each valid sketch paired with its segmented photo (or the unsegmented one,
``segmentation_fallback``), resized, in shards ``<split>/<category>-NNNNN`` of at most
``max_pairs`` pairs, each computed while saved and resumable."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import cv2
import numpy as np
import pandas as pd

from sketch_to_photo.data.pairs import shard_name
from sketch_to_photo.data.processing.fingerprints import fingerprint, fingerprint_of
from sketch_to_photo.datasets import LazyNpz, ResumableShard, SketchyTree

logger = logging.getLogger(__name__)


FALLBACKS = ("keep_photo", "drop")


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    if image.shape[:2] == (size, size):
        return image
    interpolation = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


def _build_shard(
    tree: SketchyTree,
    rows: pd.DataFrame,
    segmented_photos: Mapping[str, Callable[[], LazyNpz]],
    category_label: int,
    image_size: int,
    fallback: str,
) -> dict[str, np.ndarray]:
    photo_lookup: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, bool]] = {}
    for augmentation in rows["photo_augmentation"].unique():
        name = f"{augmentation}/{rows['category'].iloc[0]}"
        if name not in segmented_photos:
            continue
        shard = segmented_photos[name]()
        for photo_id, photo, mask, failed in zip(
            shard["photo_ids"],
            shard["photos"],
            shard["masks"],
            shard["segmentation_failed"],
            strict=True,
        ):
            photo_lookup[(augmentation, str(photo_id))] = (photo, mask, bool(failed))
    kept: dict[str, list[Any]] = {
        key: [] for key in ("sketches", "photos", "masks", "sketch_ids", "photo_ids", "fallback")
    }
    unreadable, dropped_segmentation = [], []
    for row in rows.itertuples(index=False):
        segmented = photo_lookup.get((row.photo_augmentation, row.photo_id))
        sketch = tree.image(row.sketch_path)
        if segmented is None or sketch is None:
            unreadable.append(row.sketch_id)
            continue
        photo, mask, failed = segmented
        if failed and fallback == "drop":
            dropped_segmentation.append(row.sketch_id)
            continue
        if failed:  # keep_photo: the unsegmented photo, whole frame as mask
            photo = tree.image(row.photo_path)
            mask = np.ones(photo.shape[:2], np.uint8)
        kept["sketches"].append(_resize(sketch, image_size))
        kept["photos"].append(_resize(photo, image_size))
        kept["masks"].append(_resize(mask, image_size))
        kept["sketch_ids"].append(row.sketch_id)
        kept["photo_ids"].append(row.photo_id)
        kept["fallback"].append(failed)
    n = len(kept["sketch_ids"])
    if unreadable:
        logger.warning(
            "%d sketch(es) dropped, sketch or photo unreadable: %s",
            len(unreadable),
            ", ".join(unreadable),
        )
    logger.info(
        "Shard of %s: %d pairs (%d fell back to the unsegmented photo)",
        rows["category"].iloc[0],
        n,
        sum(kept["fallback"]),
    )
    empty_images = np.zeros((0, image_size, image_size, 3), np.uint8)
    return {
        "sketches": np.stack(kept["sketches"]) if n else empty_images,
        "photos": np.stack(kept["photos"]) if n else empty_images,
        "masks": np.stack(kept["masks"]) if n else np.zeros((0, image_size, image_size), np.uint8),
        "sketch_ids": np.array(kept["sketch_ids"], dtype=np.str_),
        "photo_ids": np.array(kept["photo_ids"], dtype=np.str_),
        "categories": np.array([rows["category"].iloc[0]] * n, dtype=np.str_),
        "labels": np.full(n, category_label, dtype=np.int16),
        "segmentation_fallback": np.array(kept["fallback"], dtype=bool),
        "dropped_unreadable_ids": np.array(unreadable, dtype=np.str_),
        "dropped_segmentation_ids": np.array(dropped_segmentation, dtype=np.str_),
    }


def _chunks(rows: pd.DataFrame, size: int) -> Iterable[tuple[int, pd.DataFrame]]:
    for number, start in enumerate(range(0, len(rows), size)):
        yield number, rows.iloc[start : start + size]


def build_pair_shards(
    sketches: pd.DataFrame,
    photo_splits: pd.DataFrame,
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    sketchy_raw: SketchyTree,
    categories: list[str],
    size: int,
    fallback: str,
    max_pairs: int,
) -> dict[str, ResumableShard]:
    """Pair each valid sketch with its segmented photo at ``size`` px; shards
    ``<split>/<category>-NNNNN``, the category's label its index in ``categories``.

    Shards are computed one at a time while saved, so memory stays bounded by ``max_pairs``
    (``shards.max_pairs_per_shard``) whatever the dataset size; each is resumable (reused when
    its sketches, its segmented photos and the settings are unchanged).
    """
    if fallback not in FALLBACKS:
        raise ValueError(
            f"shards.segmentation_fallback must be one of {FALLBACKS}, got {fallback!r}"
        )
    if max_pairs < 1:
        raise ValueError(f"shards.max_pairs_per_shard must be >= 1, got {max_pairs}")
    labels = {category: i for i, category in enumerate(categories)}
    valid = sketches[sketches["invalid"] == ""].merge(
        photo_splits, on=["category", "photo_id"], how="left", validate="many_to_one"
    )
    valid = valid.sort_values(["split", "category", "augmentation", "sketch_id"], ignore_index=True)
    # the segmented shards each pair shard reads, by what they were computed from
    source_fingerprints = {name: fingerprint_of(shard) for name, shard in segmented_photos.items()}
    result = {}
    for (split_name, category), group in valid.groupby(["split", "category"], sort=True):
        for number, rows in _chunks(group, max_pairs):
            name = shard_name(split_name, category, number)
            sources = sorted(f"{a}/{category}" for a in rows["photo_augmentation"].unique())
            result[name] = ResumableShard(
                fingerprint(
                    size, fallback, labels[category],
                    rows[["sketch_id", "sketch_path", "photo_id", "photo_path"]].values.tolist(),
                    [(s, source_fingerprints.get(s)) for s in sources],
                    versions=map(sketchy_raw.version, rows["sketch_path"]),
                ),
                lambda rows=rows, label=labels[category]: _build_shard(
                    sketchy_raw, rows, segmented_photos, label, size, fallback
                ),
            )  # fmt: skip
    logger.info("Writing %d valid sketches into %d shard(s)", len(valid), len(result))
    return result
