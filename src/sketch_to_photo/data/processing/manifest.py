"""The pairs manifest: counts per category and split (``sketches_seen = dropped_invalid +
dropped_unreadable + dropped_segmentation + pairs``), the shard list and the segmentation's
figures, read from the shards' id arrays only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pandas as pd

from sketch_to_photo.data.pairs import SPLITS, split_and_category
from sketch_to_photo.data.segmentation.failures import FAILURE_REASONS
from sketch_to_photo.datasets import LazyNpz, SketchyTree

logger = logging.getLogger(__name__)


COUNT_COLUMNS = (
    "sketches_seen",
    "dropped_invalid",
    "dropped_unreadable",
    "dropped_segmentation",
    "pairs",
)


def _segmentation_summary(segmented_photos: dict[str, Callable[[], LazyNpz]]) -> dict[str, Any]:
    """Photos, failures (by reason), unreadable photos and GrabCut starts over all shards.

    A failed photo counts once in ``failure_reasons``, under its box's cut's reason; when the
    inset rectangle's cut was tried and failed too, also in ``retry_failure_reasons``.
    """
    shards = [load() for load in segmented_photos.values()]
    failed = [shard["segmentation_failed"] for shard in shards]

    def count(key: str) -> pd.Series:
        return pd.Series(
            [
                str(r)
                for shard, f in zip(shards, failed, strict=True)
                for r in shard[key][f]
                if str(r)
            ],
            dtype=object,
        ).value_counts()

    reasons, retry_reasons = count("failure_reason"), count("retry_failure_reason")
    starts = pd.Series([str(i) for shard in shards for i in shard["init"]], dtype=object)
    return {
        "photos": sum(len(shard["photo_ids"]) for shard in shards),
        "failed": int(sum(f.sum() for f in failed)),
        "unreadable": sum(len(shard["unreadable_photo_ids"]) for shard in shards),
        "failure_reasons": {reason: int(reasons.get(reason, 0)) for reason in FAILURE_REASONS},
        "retry_failure_reasons": {
            reason: int(retry_reasons.get(reason, 0)) for reason in FAILURE_REASONS
        },
        "init": {
            start: int(n) for start, n in starts.value_counts(sort=False).items()
        },  # see _segment_group
    }


def summarise_pairs(
    sketches: pd.DataFrame,
    photo_splits: pd.DataFrame,
    pair_shards: dict[str, Callable[[], LazyNpz]],
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    sketchy_raw: SketchyTree,
    index: dict[str, Any],
) -> dict[str, Any]:
    """The manifest: counts per category and split, shard list, segmentation figures, and
    the selection (``index``: categories, augmentations, invalid lists) it was made from.

    Reads only the id arrays of each shard, never the images.
    """
    per_sketch = sketches.merge(
        photo_splits, on=["category", "photo_id"], how="left", validate="many_to_one"
    ).assign(sketches_seen=1, dropped_invalid=lambda rows: (rows["invalid"] != "").astype(int))
    shard_list, shard_rows = [], []
    for pair_shard_name, load in pair_shards.items():
        shard = load()
        split, category = split_and_category(pair_shard_name)
        pairs = len(shard["sketch_ids"])
        shard_rows.append(
            {
                "category": category,
                "split": split,
                "pairs": pairs,
                "dropped_unreadable": len(shard["dropped_unreadable_ids"]),
                "dropped_segmentation": len(shard["dropped_segmentation_ids"]),
            }
        )
        shard_list.append(
            {
                "name": pair_shard_name,
                "pairs": pairs,
                "photos": len(set(shard["photo_ids"].tolist())),
            }
        )
    # one row per (category, split), every split of every category present, zeros included
    table = (
        pd.concat(
            [per_sketch, pd.DataFrame(shard_rows, columns=["category", "split", *COUNT_COLUMNS])],
            ignore_index=True,
        )
        .groupby(["category", "split"])[list(COUNT_COLUMNS)]
        .sum()
        .reindex(pd.MultiIndex.from_product([index["categories"], SPLITS]), fill_value=0)
        .astype(int)
    )
    counts = {
        category: {split: table.loc[(category, split)].to_dict() for split in SPLITS}
        for category in index["categories"]
    }
    per_split = {split: table.xs(split, level=1).sum().to_dict() for split in SPLITS}
    totals = table.sum().to_dict()
    segmentation = _segmentation_summary(segmented_photos)
    manifest = {
        "source": sketchy_raw.source,
        "root": sketchy_raw.root,
        "categories": list(index["categories"]),
        "augmentations": list(index["augmentations"]),
        "invalid_lists": list(index["invalid_lists"]),
        "photos_per_split": photo_splits["split"]
        .value_counts()
        .reindex(SPLITS, fill_value=0)
        .astype(int)
        .to_dict(),
        "counts": counts,
        "per_split": per_split,
        "totals": totals,
        "segmentation": segmentation,
        "shards": shard_list,
    }
    logger.info("Pairs per split: %s", {name: per_split[name]["pairs"] for name in SPLITS})
    return manifest
