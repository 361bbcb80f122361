"""Indexing an extracted Sketchy tree: one row per sketch of the chosen categories and
augmentation folders, the invalid lists' verdicts, and one row per photo with Sketchy's test
flag and the boxes GrabCut may start from.

The tree (:class:`~sketch_to_photo.datasets.SketchyTree`) is read through its methods; tables
carry its image ids, the paths relative to the Sketchy root, so they stay valid when the tree
moves.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

import numpy as np
import pandas as pd

from sketch_to_photo.data.segmentation.boxes import BBox, ink_box, sketch_extent
from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.datasets import SketchyTree

logger = logging.getLogger(__name__)


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


def index_sketches(
    sketchy_raw: SketchyTree, categories: list[str], augmentations: list[str]
) -> pd.DataFrame:
    """One row per sketch file of the configured categories and augmentation folders.

    Lists the tree's sketches without decoding any."""
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
    sketches: pd.DataFrame, sketchy_raw: SketchyTree, invalid_lists: list[str]
) -> pd.DataFrame:
    """Add ``invalid``: the first of the ``invalid_lists`` naming the sketch, or ''."""
    unknown = [name for name in invalid_lists if name not in layout.INVALID_LIST_FILES]
    if unknown:
        raise ValueError(
            f"Unknown invalid list(s) {unknown} in `index.invalid_lists`; "
            f"choose from {list(layout.INVALID_LIST_FILES)}."
        )
    reason = pd.Series("", index=sketches.index, dtype=object)
    for name in invalid_lists:
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
        ", ".join(invalid_lists),
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
