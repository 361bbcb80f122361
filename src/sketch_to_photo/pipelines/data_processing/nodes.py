"""Nodes of the data_processing pipeline: from an extracted Sketchy tree to npz pair shards.

The tree comes from the catalog (``sketchy_raw``, a :class:`~sketch_to_photo.datasets.SketchyTree`)
and every file is read through it. Tables carry its image ids, the paths relative to the
Sketchy root, so they stay valid when the tree moves. Counting rule, per category and split:
``sketches_seen = dropped_invalid + dropped_unreadable + dropped_segmentation + pairs``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import PurePosixPath
from typing import Any

import cv2
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from tqdm.auto import tqdm

from sketch_to_photo import __version__
from sketch_to_photo.datasets import LazyNpz, ResumableShard, SketchyTree
from sketch_to_photo.pairs import SPLITS, shard_name, split_and_category
from sketch_to_photo.segmentation import (
    FAILURE_REASONS,
    BBox,
    SegmentationConfig,
    ink_box,
    resolve_workers,
    segment_files,
    sketch_extent,
)
from sketch_to_photo.sketchy import layout

matplotlib.use("Agg")
logger = logging.getLogger(__name__)

FALLBACKS = ("keep_photo", "drop")


def _photo_augmentation(tree: SketchyTree, sketch_augmentation: str) -> str:
    """Sketch-only augmentation folders reuse the photos of ``tx_000000000000``."""
    if tree.has_photos(sketch_augmentation):
        return sketch_augmentation
    return layout.DEFAULT_AUGMENTATION


def _check_selection(tree: SketchyTree, categories: list[str], augmentations: list[str]) -> None:
    available_augmentations = tree.sketch_augmentations()
    missing = [a for a in augmentations if a not in available_augmentations]
    if missing:
        raise ValueError(
            f"Augmentation folder(s) {missing} not in {tree.root}/{layout.SKETCH_ROOT}. "
            f"Available: {', '.join(available_augmentations)}. Fix `index.augmentations`."
        )
    available = sorted({c for a in augmentations for c in tree.categories(a)})
    unknown = [c for c in categories if c not in available]
    if unknown:
        raise ValueError(
            f"Unknown categor{'y' if len(unknown) == 1 else 'ies'} {unknown} in `index.categories`. "
            f"The {len(available)} available in {tree.root} are: {', '.join(available)}"
        )
    if not categories:
        raise ValueError("`index.categories` is empty: name at least one category.")


def index_sketches(sketchy_raw: SketchyTree, index: dict[str, Any]) -> pd.DataFrame:
    """One row per sketch file of the configured categories and augmentation folders.

    Lists the tree's sketches without decoding any."""
    categories, augmentations = list(index["categories"]), list(index["augmentations"])
    _check_selection(sketchy_raw, categories, augmentations)
    rows = []
    for augmentation in augmentations:
        photo_augmentation = _photo_augmentation(sketchy_raw, augmentation)
        for category in categories:
            for sketch_path in sketchy_raw.sketches(augmentation, category):
                sketch_id = PurePosixPath(sketch_path).stem
                try:
                    photo_id = layout.photo_id_of(sketch_id)
                except ValueError:
                    logger.warning("Skipping %s: not named <ImageNetID>-<k>.png", sketch_path)
                    continue
                photo = (
                    layout.PHOTO_ROOT
                    / photo_augmentation
                    / category
                    / f"{photo_id}{layout.PHOTO_SUFFIX}"
                )
                rows.append({
                    "category": category,
                    "augmentation": augmentation,
                    "photo_augmentation": photo_augmentation,
                    "sketch_id": sketch_id,
                    "photo_id": photo_id,
                    "sketch_path": sketch_path,
                    "photo_path": photo.as_posix(),
                })  # fmt: skip
    columns = [
        "category",
        "augmentation",
        "photo_augmentation",
        "sketch_id",
        "photo_id",
        "sketch_path",
        "photo_path",
    ]
    sketches = pd.DataFrame(rows, columns=columns)
    logger.info("Indexed %d sketches in %d categories", len(sketches), len(categories))
    return sketches


def mark_invalid_sketches(
    sketches: pd.DataFrame, sketchy_raw: SketchyTree, index: dict[str, Any]
) -> pd.DataFrame:
    """Add ``invalid``: the first configured invalid list naming the sketch, or ''."""
    unknown = [name for name in index["invalid_lists"] if name not in layout.INVALID_LIST_FILES]
    if unknown:
        raise ValueError(
            f"Unknown invalid list(s) {unknown} in `index.invalid_lists`; "
            f"choose from {list(layout.INVALID_LIST_FILES)}."
        )
    reason = pd.Series("", index=sketches.index, dtype=object)
    for name in index["invalid_lists"]:
        file = layout.INVALID_LIST_FILES[name]
        ids = sketchy_raw.id_list(file)
        if ids is None:
            logger.warning("Invalid list %s is missing: no sketch dropped as %r", file, name)
        listed = sketches["sketch_id"].isin(ids or set()) & (reason == "")
        reason[listed] = name
    marked = sketches.assign(invalid=reason)
    logger.info(
        "Marked %d of %d sketches invalid (%s)",
        (reason != "").sum(),
        len(sketches),
        ", ".join(index["invalid_lists"]),
    )
    return marked


def _read_bboxes(tree: SketchyTree) -> dict[str, tuple[float, float, float, float, float, float]]:
    """Per photo: bbox x, y, w, h and the original width, height, from ``stats.csv``."""
    stats = tree.stats()
    if stats is None:
        return {}
    columns = {name.lower(): name for name in stats.columns}
    needed = ["imagenetid", "bbox_x", "bbox_y", "bbox_width", "bbox_height", "width", "height"]
    if not all(name in columns for name in needed):
        logger.warning(
            "%s lacks bbox/size columns %s: GrabCut starts from a default rectangle",
            layout.STATS_FILE,
            needed,
        )
        return {}
    stats = stats[[columns[name] for name in needed]].drop_duplicates(columns["imagenetid"])
    return {str(row[0]): tuple(float(v) for v in row[1:]) for row in stats.itertuples(index=False)}


def _sketch_extents(tree: SketchyTree, sketches: pd.DataFrame) -> dict[tuple[str, str], BBox]:
    """Per (category, photo id): the extent of its valid sketches, in fractions of the frame.

    Only ``tx_000000000000`` sketches are drawn in their photo's frame (both scaled the same
    way); the other folders re-centre or crop. Unreadable and blank sketches are left out.
    """
    in_frame = sketches[
        (sketches["invalid"] == "")
        & (sketches["augmentation"] == layout.DEFAULT_AUGMENTATION)
        & (sketches["photo_augmentation"] == layout.DEFAULT_AUGMENTATION)
    ]
    extents = {}
    for (category, photo_id), group in in_frame.groupby(["category", "photo_id"], sort=False):
        boxes = []
        for path in group["sketch_path"]:
            sketch = tree.image(path)
            box = None if sketch is None else ink_box(sketch)
            if box is not None:
                height, width = sketch.shape[:2]
                boxes.append((box[0] / width, box[1] / height, box[2] / width, box[3] / height))
        extent = sketch_extent(boxes)
        if extent is not None:
            extents[(category, photo_id)] = extent
    return extents


def index_photos(sketches: pd.DataFrame, sketchy_raw: SketchyTree) -> pd.DataFrame:
    """One row per photo that has a sketch, with Sketchy's test flag and boxes if known.

    Both boxes are in fractions of the photo: ``bbox_*`` from ``stats.csv`` (only for
    ``tx_000000000000``), ``sketch_*`` the extent of the photo's valid sketches drawn in its
    frame, which initialises GrabCut when there is no bbox (``segmentation.grabcut.init``).

    ``has_valid_sketch`` marks the photos worth segmenting; the others still get a split so
    that every sketch, invalid ones included, is counted under its photo's split.
    """
    testset = sketchy_raw.id_list(layout.TESTSET_FILE) or set()
    bboxes = _read_bboxes(sketchy_raw)
    keys = ["photo_augmentation", "category", "photo_id"]
    photos = (
        sketches.assign(has_valid_sketch=sketches["invalid"] == "")
        .groupby([*keys, "photo_path"], as_index=False)["has_valid_sketch"]
        .any()
        .sort_values(keys, ignore_index=True)
    )
    photos["in_testset"] = photos["photo_id"].isin(testset)
    photos["exists"] = [
        path in sketchy_raw.photos(augmentation, category)
        for augmentation, category, path in zip(
            photos["photo_augmentation"], photos["category"], photos["photo_path"], strict=True
        )
    ]
    bbox_columns = ["bbox_x", "bbox_y", "bbox_width", "bbox_height"]
    for column in bbox_columns:
        photos[column] = np.nan
    for i, photo_id in enumerate(photos["photo_id"]):
        if photo_id in bboxes and photos.at[i, "photo_augmentation"] == layout.DEFAULT_AUGMENTATION:
            x, y, w, h, width, height = bboxes[photo_id]
            # tx_000000000000 photos are the originals scaled (non-uniformly) to a square, so
            # the bbox as fractions of the original's size holds for the rendered photo too.
            photos.loc[i, bbox_columns] = [x / width, y / height, w / width, h / height]
    extents = _sketch_extents(sketchy_raw, sketches)
    sketch_columns = ["sketch_x", "sketch_y", "sketch_width", "sketch_height"]
    photos[sketch_columns] = [
        extents.get((category, photo_id), (np.nan,) * 4)
        if augmentation == layout.DEFAULT_AUGMENTATION
        else (np.nan,) * 4
        for augmentation, category, photo_id in zip(
            photos["photo_augmentation"], photos["category"], photos["photo_id"], strict=True
        )
    ]
    logger.info(
        "%d photos with sketches, %d with a valid one (%d in testset.txt, %d with a bbox, "
        "%d with a sketch extent, %d missing)",
        len(photos), photos["has_valid_sketch"].sum(), photos["in_testset"].sum(),
        photos["bbox_x"].notna().sum(), photos["sketch_x"].notna().sum(), (~photos["exists"]).sum(),
    )  # fmt: skip
    return photos


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


def fingerprint(*parts: Any, versions: Iterable[str] = ()) -> str:
    """A digest of ``parts`` (JSON-able), of the input images' versions
    (:meth:`SketchyTree.version`) and of the project version: what a resumable shard is
    computed from."""
    digest = hashlib.sha256(json.dumps([__version__, *parts], sort_keys=True, default=str).encode())
    for version in versions:
        digest.update(f"{version}\n".encode())
    return digest.hexdigest()[:20]


def segment_photos(
    photos: pd.DataFrame, sketchy_raw: SketchyTree, segmentation: dict[str, Any]
) -> dict[str, ResumableShard]:
    """Cut each photo's object out onto white; one lazily computed shard per folder/category.

    Each shard is resumable (:class:`ResumableShard`): a category segmented before with the
    same photos, boxes and settings is reused, after a crash or in a later run."""
    config = SegmentationConfig(**segmentation["grabcut"])
    workers = resolve_workers(segmentation["workers"])
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


def plot_segmentation_grid(
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    photos: pd.DataFrame,
    sketchy_raw: SketchyTree,
    reporting: dict[str, Any],
    shards: dict[str, Any] | None = None,
) -> Figure:
    """Before/after figure: photo (GrabCut's box in blue) | mask | cut-out, a few per
    category plus any failures, captioned with the failure reason and what becomes of their
    pairs (``shards.segmentation_fallback``)."""
    per_shard, max_failed = reporting["grid_photos_per_category"], reporting["grid_max_failed"]
    fallback = (shards or {}).get("segmentation_fallback", "keep_photo")
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


def split_photos(photos: pd.DataFrame, split: dict[str, Any]) -> pd.DataFrame:
    """Assign each photo (never a single sketch) to train, validation or test.

    Photos in Sketchy's ``testset.txt`` always go to test. Of the others, per category, a
    seeded shuffle sends ``test_fraction`` to test and ``validation_fraction`` to validation.
    A photo id gets one split whatever augmentation folder it appears in.
    """
    seed, validation_fraction = int(split["seed"]), float(split["validation_fraction"])
    test_fraction = float(split["test_fraction"])
    if not (
        0 <= validation_fraction < 1
        and 0 <= test_fraction < 1
        and validation_fraction + test_fraction < 1
    ):
        raise ValueError(
            "split.validation_fraction and split.test_fraction must be in [0, 1) with a sum below 1, "
            f"got {validation_fraction} and {test_fraction}"
        )
    unique = photos.drop_duplicates(["category", "photo_id"])[
        ["category", "photo_id", "in_testset"]
    ]
    assignments = []
    for category, group in unique.groupby("category", sort=True):
        held_out = sorted(group.loc[group["in_testset"], "photo_id"])
        rest = np.array(sorted(group.loc[~group["in_testset"], "photo_id"]), dtype=object)
        # A per-category seed keeps each category's split stable when others are added.
        rng = np.random.default_rng([seed, zlib.crc32(category.encode())])
        rest = rest[rng.permutation(len(rest))]
        n_test = round(test_fraction * len(rest))
        n_validation = round(validation_fraction * len(rest))
        if validation_fraction > 0 and n_validation == 0 and len(rest) - n_test >= 2:
            n_validation = 1
        for photo_id in held_out:
            assignments.append((category, photo_id, "test"))
        for i, photo_id in enumerate(rest):
            name = "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
            assignments.append((category, photo_id, name))
    splits = pd.DataFrame(assignments, columns=["category", "photo_id", "split"])
    logger.info("Photos per split: %s", splits["split"].value_counts().to_dict())
    return splits.sort_values(["category", "photo_id"], ignore_index=True)


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


def _fingerprint_of(shard: Callable[[], Any]) -> str | None:
    """The fingerprint a segmented shard was computed from (None when it has none)."""
    if isinstance(shard, ResumableShard):  # in memory, not yet saved
        return shard.fingerprint
    return getattr(shard(), "fingerprint", None)


def _chunks(rows: pd.DataFrame, size: int) -> Iterable[tuple[int, pd.DataFrame]]:
    for number, start in enumerate(range(0, len(rows), size)):
        yield number, rows.iloc[start : start + size]


def build_pair_shards(
    sketches: pd.DataFrame,
    photo_splits: pd.DataFrame,
    segmented_photos: dict[str, Callable[[], LazyNpz]],
    sketchy_raw: SketchyTree,
    index: dict[str, Any],
    shards: dict[str, Any],
) -> dict[str, ResumableShard]:
    """Pair each valid sketch with its segmented photo; shards ``<split>/<category>-NNNNN``.

    Shards are computed one at a time while saved, so memory stays bounded by
    ``shards.max_pairs_per_shard`` whatever the dataset size; each is resumable (reused when
    its sketches, its segmented photos and the settings are unchanged).
    """
    size, fallback, max_pairs = (
        int(shards["image_size"]),
        shards["segmentation_fallback"],
        int(shards["max_pairs_per_shard"]),
    )
    if fallback not in FALLBACKS:
        raise ValueError(
            f"shards.segmentation_fallback must be one of {FALLBACKS}, got {fallback!r}"
        )
    if max_pairs < 1:
        raise ValueError(f"shards.max_pairs_per_shard must be >= 1, got {max_pairs}")
    labels = {category: i for i, category in enumerate(index["categories"])}
    valid = sketches[sketches["invalid"] == ""].merge(
        photo_splits, on=["category", "photo_id"], how="left", validate="many_to_one"
    )
    valid = valid.sort_values(["split", "category", "augmentation", "sketch_id"], ignore_index=True)
    # the segmented shards each pair shard reads, by what they were computed from
    source_fingerprints = {name: _fingerprint_of(shard) for name, shard in segmented_photos.items()}
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
    """The manifest: counts per category and split, shard list, segmentation figures.

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
