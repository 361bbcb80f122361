"""The training benchmark's loss curves: both trainers over the same images, and the plot."""

from __future__ import annotations

import math
from pathlib import Path

import keras
from PIL import Image

from sketch_to_photo.tools.benchmark import training_curves, training_pairs, training_speed


def test_loss_curves_cover_the_same_images_for_both(tmp_path: Path) -> None:
    sketches, photos = training_pairs.synthetic_pairs(24, 32)
    train, held_out = (sketches[:16], photos[:16]), (sketches[16:], photos[16:])
    chunk = training_curves.curve_chunk(16, 2)
    assert chunk == 4
    reference = training_curves.reference_curve(train, held_out, 32, 8, chunk)
    project = training_curves.project_curve(
        train, held_out, training_speed.Setting("mixed_bfloat16", 2), 32, 8, chunk
    )
    assert reference.images_seen == project.images_seen == [4, 8, 12, 16]
    for curve in (reference, project):
        assert len(curve.train_l1) == 4
        assert all(math.isfinite(v) and 0 < v < 2 for v in [*curve.train_l1, curve.held_out_l1])
    assert "bf16 b2" in project.label
    png = tmp_path / "curves.png"
    training_curves.plot_curves([reference, project], png, "test", chunk)
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 300
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
