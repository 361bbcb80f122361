"""The ``data`` section: segmentation rates and agreement, pairs written, full-Sketchy estimate.

Rates per core are measured in this process with one OpenCV thread (reading the JPEG
included); the pool row uses :func:`segment_files` over every core, as the pipeline does.
Pairs are built and saved exactly as ``build_pair_shards`` + ``NpzShardsDataset`` do.
Input: the real Sketchy sample when present (``--data-photos``), else a synthetic tree, read
through :class:`~sketch_to_photo.datasets.SketchyTree` as the pipeline reads ``sketchy_raw``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from sketch_to_photo.data.segmentation.boxes import BBox
from sketch_to_photo.data.segmentation.config import SegmentationConfig
from sketch_to_photo.data.segmentation.files import ImageLoader, resolve_workers, segment_files
from sketch_to_photo.data.segmentation.grabcut import segment_object
from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.data.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy
from sketch_to_photo.datasets import NpzShardsDataset, SketchyTree
from sketch_to_photo.pipelines.data_processing import nodes
from sketch_to_photo.tools.benchmark.report import Row

SECTION = "data"
DEFAULT_SAMPLE = Path("../shared/sketchy_sample")  # relative to the project root
# The full Sketchy database (Sangkloy et al. 2016): 125 categories x 100 photos.
FULL_SKETCHY_PHOTOS = 12_500
FULL_SKETCHY_SKETCHES = 75_471


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data section")
    group.add_argument(
        "--data-photos", type=Path, default=DEFAULT_SAMPLE,
        help="an extracted Sketchy tree (256x256/, info/); a synthetic one is generated "
        f"when it is missing (default: {DEFAULT_SAMPLE})",
    )  # fmt: skip
    group.add_argument(
        "--data-limit", type=int, default=0,
        help="segment at most this many photos (default 0: all of them)",
    )  # fmt: skip
    group.add_argument(
        "--data-workers", default="auto",
        help="processes for the pool row (default auto: every core)",
    )  # fmt: skip
    group.add_argument(
        "--data-quick", action="store_true",
        help="a few small synthetic photos: seconds, for tests (figures are not meaningful)",
    )  # fmt: skip


def _check(args: argparse.Namespace) -> None:
    if args.data_limit < 0:
        raise SystemExit(f"--data-limit must be >= 0 (0 = all photos), got {args.data_limit}")


def _synthetic_tree(folder: Path, quick: bool) -> Path:
    config = (
        SyntheticConfig(photos_per_category=2, sketches_per_photo=(2, 3), image_size=96, seed=3)
        if quick
        else SyntheticConfig(image_size=256)
    )
    root = folder / "synthetic_sketchy"
    generate_synthetic_sketchy(root, config, progress=False)
    return root


def _indexed(root: Path) -> tuple[SketchyTree, list[str], Any, Any]:
    """The pipeline's own sketch and photo tables, for every category of the tree."""
    sketchy_raw = SketchyTree(root, source="benchmark")
    categories = sketchy_raw.categories(layout.DEFAULT_AUGMENTATION)
    index = {
        "categories": categories,
        "augmentations": [layout.DEFAULT_AUGMENTATION],
        "invalid_lists": ["error", "ambiguous"],
    }
    sketches = nodes.mark_invalid_sketches(
        nodes.index_sketches(sketchy_raw, index), sketchy_raw, index
    )
    photos = nodes.index_photos(sketches, sketchy_raw)
    return sketchy_raw, categories, sketches, photos


Task = tuple[str, ImageLoader, BBox | None]  # photo id, its loader, its bbox (fractions)


def _tasks(tree: SketchyTree, categories: list[str], photos: Any) -> list[Task]:
    """Every photo of the tree (not only those with a sketch), with its bbox when known."""
    bboxes = {
        row.photo_path: (row.bbox_x, row.bbox_y, row.bbox_width, row.bbox_height)
        for row in photos.itertuples(index=False)
        if not np.isnan(row.bbox_x)
    }
    return [
        (photo_id, load, bboxes.get(photo_id))
        for category in categories
        for photo_id, load in tree.photos(layout.DEFAULT_AUGMENTATION, category).items()
    ]


def _segment_serially(
    tasks: list[Task], config: SegmentationConfig
) -> tuple[float, list[np.ndarray]]:
    """Seconds per photo (read + segment, one thread) and the masks."""
    masks, elapsed = [], 0.0
    for photo_id, load, relative_bbox in tasks:
        start = time.perf_counter()
        photo = load()
        if photo is None:
            raise FileNotFoundError(
                f"benchmark photo {photo_id} is unreadable: check --data-photos"
            )
        height, width = photo.shape[:2]
        bbox = None
        if relative_bbox is not None:
            x, y, w, h = relative_bbox
            bbox = (x * width, y * height, w * width, h * height)
        result = segment_object(photo, bbox, config)
        elapsed += time.perf_counter() - start
        # What the pipeline uses: a failed mask falls back to the whole photo (keep_photo).
        masks.append(np.ones_like(result.mask) if result.failed else result.mask)
    return elapsed / len(tasks), masks


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _ious(masks: list[np.ndarray], references: list[np.ndarray]) -> np.ndarray:
    return np.array([mask_iou(a, b) for a, b in zip(masks, references, strict=True)])


def _progress(message: str) -> None:
    print(f"[benchmark data] {message}", file=sys.stderr, flush=True)


def _write_pairs(
    root_info: tuple[SketchyTree, list[str], Any, Any], workers: int, out: Path
) -> tuple[int, float, float]:
    """Build and save pair shards as the pipeline does; (pairs, seconds, megabytes)."""
    sketchy_raw, categories, sketches, photos = root_info
    segmentation = {"workers": workers, "grabcut": {"method": "fast"}}
    segmented = NpzShardsDataset(path=str(out / "segmented"))
    segmented.save(nodes.segment_photos(photos, sketchy_raw, segmentation))
    splits = nodes.split_photos(
        photos, {"seed": 42, "validation_fraction": 0.1, "test_fraction": 0.0}
    )
    index = {"categories": categories}
    shards = {"image_size": 256, "max_pairs_per_shard": 1000, "segmentation_fallback": "keep_photo"}
    start = time.perf_counter()
    pair_shards = nodes.build_pair_shards(
        sketches, splits, segmented.load(), sketchy_raw, index, shards
    )
    NpzShardsDataset(path=str(out / "pairs")).save(pair_shards)
    seconds = time.perf_counter() - start
    written = NpzShardsDataset(path=str(out / "pairs")).load()
    pairs = sum(len(load()["sketch_ids"]) for load in written.values())
    megabytes = sum(f.stat().st_size for f in (out / "pairs").rglob("*.npz")) / 1e6
    return pairs, seconds, megabytes


def run(args: argparse.Namespace) -> list[Row]:
    _check(args)
    # The section's own threads: one per core is the per-core figure.
    previous_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    logging.getLogger("sketch_to_photo").setLevel(logging.WARNING)  # keep the table readable
    try:
        with tempfile.TemporaryDirectory(prefix="benchmark-data-") as tmp:
            return _run(args, Path(tmp))
    finally:
        cv2.setNumThreads(previous_threads)


def _run(args: argparse.Namespace, tmp: Path) -> list[Row]:
    root = args.data_photos
    if args.data_quick or not layout.is_sketchy_tree(root):
        _progress(f"no Sketchy tree at {root}: generating synthetic photos")
        root, source = _synthetic_tree(tmp, args.data_quick), "synthetic"
    else:
        source = "real sample"
    indexed = _indexed(root)
    tree, categories, _, photos = indexed
    limit = 4 if args.data_quick and not args.data_limit else args.data_limit
    tasks = _tasks(tree, categories, photos)[: limit or None]
    if not tasks:
        raise SystemExit(f"no photos with a valid sketch in {root}: check --data-photos")
    size = tasks[0][1]().shape[:2]
    note = f"{len(tasks)} {source} photos, {size[1]}x{size[0]}"
    reference, fast = SegmentationConfig(method="full"), SegmentationConfig(method="fast")

    _progress(f"segmenting {len(tasks)} photos with full-resolution GrabCut (reference)")
    reference_seconds, reference_masks = _segment_serially(tasks, reference)
    _progress("the reference again with another random seed (its own reproducibility)")
    _, reseeded_masks = _segment_serially(tasks, SegmentationConfig(method="full", seed=1))
    _progress("fast method")
    fast_seconds, fast_masks = _segment_serially(tasks, fast)
    fast_iou, reseeded_iou = (
        _ious(fast_masks, reference_masks),
        _ious(reseeded_masks, reference_masks),
    )

    workers = resolve_workers(
        args.data_workers if args.data_workers == "auto" else int(args.data_workers)
    )
    _progress(f"fast method in a pool of {workers} processes")
    start = time.perf_counter()
    results = list(segment_files([(load, bbox) for _, load, bbox in tasks], fast, workers))
    pool_seconds = time.perf_counter() - start
    if any(result is None for result in results):
        raise FileNotFoundError(f"some photos under {root} could not be read")

    _progress("building and saving pair shards as the pipeline does")
    pairs, pair_seconds, megabytes = _write_pairs(indexed, workers, tmp)

    pool_rate = len(tasks) / pool_seconds
    pair_rate = pairs / pair_seconds
    segment_minutes = FULL_SKETCHY_PHOTOS / pool_rate / 60
    pair_minutes = FULL_SKETCHY_SKETCHES / pair_rate / 60
    return [
        Row(SECTION, "segment full GrabCut (reference)", {
            "photos_per_s_per_core": 1 / reference_seconds,
            "ms_per_photo": 1000 * reference_seconds,
        }, f"{note}; GrabCut 5 rounds at 256 px, one thread"),
        Row(SECTION, "segment fast", {
            "photos_per_s_per_core": 1 / fast_seconds,
            "ms_per_photo": 1000 * fast_seconds,
            "speedup": reference_seconds / fast_seconds,
            "iou_mean": float(fast_iou.mean()),
            "iou_median": float(np.median(fast_iou)),
            "iou_min": float(fast_iou.min()),
        }, "IoU per photo against the reference mask"),
        Row(SECTION, "reference reseeded vs reference", {
            "iou_mean": float(reseeded_iou.mean()),
            "iou_median": float(np.median(reseeded_iou)),
            "iou_min": float(reseeded_iou.min()),
        }, "GrabCut's k-means seed alone: the reference's own reproducibility"),
        Row(SECTION, f"segment fast, pool of {workers}", {
            "photos_per_s": pool_rate,
            "photos_per_s_per_core": pool_rate / workers,
        }, "segment_files, forkserver processes (start-up included)"),
        Row(SECTION, "pairs written", {
            "pairs_per_s": pair_rate,
            "pairs": float(pairs),
            "mb_per_pair": megabytes / max(pairs, 1),
        }, "build_pair_shards + NpzShardsDataset, 256 px, compressed, one process"),
        Row(SECTION, "full Sketchy estimate", {
            "segment_min": segment_minutes,
            "pairs_min": pair_minutes,
            "total_min": segment_minutes + pair_minutes,
        }, f"{FULL_SKETCHY_PHOTOS:,} photos on {workers} cores, {FULL_SKETCHY_SKETCHES:,} sketches"),
    ]  # fmt: skip
