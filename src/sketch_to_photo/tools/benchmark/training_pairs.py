"""The training benchmark's input: synthetic (sketch, photo) pairs and the ``tf.data``
pipeline every case reads them through."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import tensorflow as tf

from sketch_to_photo.data.sketchy.layout import PHOTO_ROOT, SKETCH_ROOT, photo_id_of
from sketch_to_photo.data.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy


def synthetic_pairs(count: int, size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` (sketch, photo) pairs from the project's synthetic Sketchy generator.

    float32 in [-1, 1] at ``size``; sketch order is shuffled (seeded) so that categories mix.
    """
    per_photo = (4, 6)
    photos_per_category = max(2, math.ceil(count / (4 * per_photo[0])))
    config = SyntheticConfig(
        photos_per_category=photos_per_category,
        sketches_per_photo=per_photo,
        image_size=max(size, 64),  # drawn at the model size (64 px at least), like Sketchy's 256
        seed=seed,
        invalid_error_per_category=0,
        invalid_ambiguous_per_category=0,
        invalid_pose_per_category=0,
        invalid_context_per_category=0,
        testset_per_category=0,
    )
    with tempfile.TemporaryDirectory(prefix="benchmark-pairs-") as tmp:
        root = Path(tmp) / "sketchy"
        generate_synthetic_sketchy(root, config, progress=False)
        sketch_files = sorted((root / SKETCH_ROOT).glob("*/*/*.png"))
        photo_files = {p.stem: p for p in (root / PHOTO_ROOT).glob("*/*/*.jpg")}
        order = np.random.default_rng(seed).permutation(len(sketch_files))[:count]
        if len(order) < count:
            raise RuntimeError(f"the generator drew {len(sketch_files)} sketches, need {count}")
        sketches = np.stack([_read(sketch_files[i], size) for i in order])
        photos = np.stack(
            [_read(photo_files[photo_id_of(sketch_files[i].stem)], size) for i in order]
        )
    return sketches, photos


def _read(path: Path, size: int) -> np.ndarray:
    image = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    if image.shape[:2] != (size, size):
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return image.astype(np.float32) / 127.5 - 1.0


def pair_pipeline(sketches: np.ndarray, photos: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """The same input pipeline for every case: repeated, batched, prefetched."""
    data = tf.data.Dataset.from_tensor_slices((sketches, photos)).repeat()
    return data.batch(batch_size, drop_remainder=True).prefetch(2)
