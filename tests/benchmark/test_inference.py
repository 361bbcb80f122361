"""The inference section at tiny sizes, through the project's real inference path."""

from __future__ import annotations

import argparse
import math

import cv2
import keras
import numpy as np
import pytest

from sketch_to_photo.benchmark import inference
from sketch_to_photo.inference import is_blank, load_image, sketch_to_rgb


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    inference.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_documented_measurement() -> None:
    args = _args()
    assert (args.inference_size, args.inference_filters) == (256, 64)
    assert args.inference_batches == "1,16"
    assert args.inference_precisions == "float32,auto"


def test_the_benchmark_sketch_is_a_valid_drawing() -> None:
    image = sketch_to_rgb(load_image(inference.sketch_png(64)))
    assert image.shape == (64, 64, 3)
    assert not is_blank(image)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert np.median(grey) == 255  # white paper with strokes


def test_quick_run_times_every_batch_and_precision() -> None:
    rows = inference.run(
        _args("--inference-quick", "--inference-batches", "1,3", "--inference-precisions",
              "float32,mixed_bfloat16")
    )  # fmt: skip
    assert [row.case for row in rows] == [
        "float32 b1", "float32 b3", "mixed_bfloat16 b1", "mixed_bfloat16 b3",
    ]  # fmt: skip
    for row in rows:
        assert row.section == "inference"
        for name in ("ms_per_sketch", "sketches_per_s", "gflops"):
            assert math.isfinite(row.values[name]) and row.values[name] > 0, (row.case, name)
        assert row.values["sketches_per_s"] == pytest.approx(1000 / row.values["ms_per_sketch"])
    assert "target <= 150 ms" in rows[0].note
    assert keras.mixed_precision.global_policy().name == "float32"  # restored


def test_bad_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="comma-separated integers"):
        inference.run(_args("--inference-quick", "--inference-batches", "one"))
