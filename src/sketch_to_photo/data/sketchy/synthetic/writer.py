"""Writing the tree: every category's images, the info files and the summary, atomically."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sketch_to_photo.data.sketchy.layout import (
    DEFAULT_AUGMENTATION,
    INFO_ROOT,
    INVALID_LIST_FILES,
    PHOTO_ROOT,
    PHOTO_SUFFIX,
    SKETCH_ROOT,
    SKETCH_SUFFIX,
    STATS_FILE,
    TESTSET_FILE,
    stats_category_name,
)
from sketch_to_photo.data.sketchy.synthetic.config import SyntheticConfig, config_dict, config_hash
from sketch_to_photo.data.sketchy.synthetic.objects import KINDS
from sketch_to_photo.data.sketchy.synthetic.photos import object_bbox, render_photo
from sketch_to_photo.data.sketchy.synthetic.placement import place_photo
from sketch_to_photo.data.sketchy.synthetic.plan import (
    PHOTO_STREAM,
    SKETCH_STREAM,
    CategoryPlan,
    plan_category,
)
from sketch_to_photo.data.sketchy.synthetic.sketches import render_sketch
from sketch_to_photo.utils.atomic import atomic_directory

_SUMMARY_FILE = "synthetic.json"
_STATS_HEADER: tuple[str, ...] = (
    "Category",
    "ImageNetID",
    "SketchID",
    "Error?",
    "Context?",
    "Ambiguous?",
    "WrongPose?",
    "BBox_x",
    "BBox_y",
    "BBox_width",
    "BBox_height",
    "Width",
    "Height",
)
_JPEG_QUALITY = 92

_DEFAULT_CONFIG = SyntheticConfig()


def _encode(image_rgb: np.ndarray, suffix: str) -> bytes:
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]
        if suffix == ".jpg"
        else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    ok, buffer = cv2.imencode(suffix, image_rgb[..., ::-1], params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {suffix} image")
    return buffer.tobytes()


def _check_replaceable(root: Path) -> None:
    """Refuse to replace a directory that is not an earlier synthetic dataset (e.g. real data)."""
    if root.exists() and (
        not root.is_dir() or (any(root.iterdir()) and not (root / _SUMMARY_FILE).is_file())
    ):
        raise FileExistsError(
            f"{root} exists and is not a synthetic Sketchy dataset (no {_SUMMARY_FILE}); "
            "refusing to replace it: remove it or choose another root"
        )


def _write_category(
    plan: CategoryPlan, config: SyntheticConfig, tmp: Path, bar: tqdm
) -> list[tuple[object, ...]]:
    """Render and write one category's photos and sketches; return its stats.csv rows."""
    kind, size = KINDS[plan.name], config.image_size
    photo_dir = tmp / PHOTO_ROOT / DEFAULT_AUGMENTATION / plan.name
    sketch_dir = tmp / SKETCH_ROOT / DEFAULT_AUGMENTATION / plan.name
    photo_dir.mkdir(parents=True)
    sketch_dir.mkdir(parents=True)
    rows: list[tuple[object, ...]] = []
    for i in sorted(range(len(plan.photo_ids)), key=lambda j: plan.photo_ids[j]):
        photo_id = plan.photo_ids[i]
        rng = np.random.default_rng([config.seed, PHOTO_STREAM, plan.index, i])
        parts = kind.parts(rng)
        matrix = place_photo(parts, rng, size)
        photo, alpha = render_photo(parts, kind, matrix, rng, size)
        (photo_dir / f"{photo_id}{PHOTO_SUFFIX}").write_bytes(_encode(photo, PHOTO_SUFFIX))
        bbox = object_bbox(alpha)
        for k in range(1, plan.sketch_counts[i] + 1):
            sketch_rng = np.random.default_rng([config.seed, SKETCH_STREAM, plan.index, i, k])
            sketch = render_sketch(parts, matrix, sketch_rng, size)
            sketch_id = f"{photo_id}-{k}"
            path = sketch_dir / f"{sketch_id}{SKETCH_SUFFIX}"
            path.write_bytes(_encode(sketch, SKETCH_SUFFIX))
            flag = {name: int(sketch_id in ids) for name, ids in plan.flags.items()}
            rows.append(
                (
                    stats_category_name(plan.name),
                    photo_id,
                    k,
                    flag["error"],
                    flag["context"],
                    flag["ambiguous"],
                    flag["pose"],
                    *bbox,
                    size,
                    size,
                )
            )
        bar.update()
    return rows


def _write_info(info: Path, plans: list[CategoryPlan], rows: list[tuple[object, ...]]) -> None:
    info.mkdir()
    for name, filename in INVALID_LIST_FILES.items():
        ids = sorted(s for plan in plans for s in plan.flags[name])
        (info / filename).write_text("".join(f"{s}\n" for s in ids), encoding="utf-8")
    lines = sorted(f"{plan.name}/{pid}{PHOTO_SUFFIX}" for plan in plans for pid in plan.testset)
    (info / TESTSET_FILE).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    with (info / STATS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_STATS_HEADER)
        writer.writerows(rows)


def generate_synthetic_sketchy(
    root: str | os.PathLike, config: SyntheticConfig = _DEFAULT_CONFIG, *, progress: bool = True
) -> dict:
    """Write the dataset to `root` (replacing it atomically) and return a summary dict:
    {"photos": int, "sketches": int, "categories": [...], "seed": int, "config_hash": str}.

    An existing `root` is replaced only if it is empty or an earlier synthetic dataset.
    """
    if not isinstance(config, SyntheticConfig):
        raise TypeError(f"config must be a SyntheticConfig, got {type(config).__name__}")
    root = Path(root)
    _check_replaceable(root)
    plans = [plan_category(name, config) for name in config.categories]
    total = len(plans) * config.photos_per_category
    rows: list[tuple[object, ...]] = []
    with (
        atomic_directory(root) as tmp,
        tqdm(total=total, desc="synthetic sketchy", unit="photo", disable=not progress) as bar,
    ):
        for plan in plans:
            rows += _write_category(plan, config, tmp, bar)
        _write_info(tmp / INFO_ROOT, plans, rows)
        summary: dict[str, Any] = {
            "photos": total,
            "sketches": len(rows),
            "categories": list(config.categories),
            "seed": config.seed,
            "config_hash": config_hash(config),
        }
        record = {**summary, "config": config_dict(config)}
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        (tmp / _SUMMARY_FILE).write_text(text, encoding="utf-8")
    return summary
