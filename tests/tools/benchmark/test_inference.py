"""The inference section at tiny sizes, through the project's real inference path, in Keras and
in ONNX Runtime."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from sketch_to_photo.models import build_generator
from sketch_to_photo.prediction.onnx_runtime import InputSpec
from sketch_to_photo.prediction.preprocessing import (
    generate_photo,
    is_blank,
    load_image,
    sketch_to_rgb,
)
from sketch_to_photo.tools.benchmark import inference
from tests.tools.benchmark.documented import one, section


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    inference.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_documented_measurement(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/benchmarks.md's "Keras vs ONNX Runtime" table: sizes 64, 128, 256 px with 64
    filters, batches 1 and 16, Keras float32 and `auto` and ONNX Runtime, 10 timed calls each.
    run() with the default arguments must time exactly those cases."""
    text = section("Inference: Keras vs ONNX Runtime")
    documented = one(r"`--inference-sizes`, default ([\d,]+); (\d+) filters", text)
    repeats = int(one(r"\((\d+) timed calls each,\s+medians\)", text).group(1))
    cases = re.findall(r"^\| `(\w+) (\d+)px b(\d+)` \|", text, re.M)
    sizes = sorted({int(size) for _, size, _ in cases})
    assert [int(s) for s in documented.group(1).split(",")] == sizes == [64, 128, 256]
    assert {backend for backend, _, _ in cases} == {"float32", "mixed_bfloat16", "onnx"}
    timed = []

    def fake_time_size(*arguments: object) -> list:
        timed.append(arguments)
        return []

    monkeypatch.setattr(inference, "_time_size", fake_time_size)
    inference.run(_args())
    batches = sorted({int(batch) for _, _, batch in cases})
    filters = int(documented.group(2))
    # "auto" is what the table's mixed_bfloat16 rows resolved to on a bf16 CPU
    assert timed == [
        (size, filters, ["keras", "onnx"], ["float32", "auto"], batches, repeats, 0)
        for size in sizes
    ]


def test_the_benchmark_sketch_is_a_valid_drawing() -> None:
    image = sketch_to_rgb(load_image(inference.sketch_png(64)))
    assert image.shape == (64, 64, 3)
    assert not is_blank(image)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    assert np.median(grey) == 255  # white paper with strokes


def test_quick_run_times_every_batch_precision_and_backend() -> None:
    rows = inference.run(
        _args("--inference-quick", "--inference-batches", "1,3", "--inference-precisions",
              "float32,mixed_bfloat16")
    )  # fmt: skip
    assert [row.case for row in rows] == [
        "float32 32px b1", "mixed_bfloat16 32px b1", "onnx 32px b1",
        "float32 32px b3", "mixed_bfloat16 32px b3", "onnx 32px b3",
    ]  # fmt: skip
    for row in rows:
        assert row.section == "inference"
        for name in ("ms_per_sketch", "sketches_per_s", "gflops"):
            assert math.isfinite(row.values[name]) and row.values[name] > 0, (row.case, name)
        assert row.values["sketches_per_s"] == pytest.approx(1000 / row.values["ms_per_sketch"])
    keras_rows = [row for row in rows if not row.case.startswith("onnx")]
    assert all("speedup_vs_keras" not in row.values for row in keras_rows)
    for batch in ("b1", "b3"):
        onnx = next(row for row in rows if row.case == f"onnx 32px {batch}")
        best_keras = min(r.values["ms_per_sketch"] for r in keras_rows if r.case.endswith(batch))
        speedup = onnx.values["speedup_vs_keras"]
        assert math.isfinite(speedup) and speedup > 0
        assert speedup == pytest.approx(best_keras / onnx.values["ms_per_sketch"])
    assert "target <= 150 ms" in rows[0].note
    assert "onnxruntime" in rows[2].note
    assert keras.mixed_precision.global_policy().name == "float32"  # restored


class _CountingGenerator:
    """Stands in for a keras.Model or OnnxModel: counts calls and the batch sizes it saw."""

    def __init__(self) -> None:
        self.inputs = [InputSpec("sketch", (None, 32, 32, 3))]
        self.batches: list[int] = []

    def predict_on_batch(self, x: np.ndarray) -> np.ndarray:
        self.batches.append(len(x))
        return np.zeros_like(x)


def test_generators_take_turns_after_an_untimed_call() -> None:
    sketch = inference.sketch_png(32)
    a, b = _CountingGenerator(), _CountingGenerator()
    seconds = inference.time_in_turns({"a": a, "b": b}, sketch, 32, 3, repeats=4, warmup=2)
    assert set(seconds) == {"a", "b"} and all(s > 0 for s in seconds.values())
    assert a.batches == b.batches == [3] * (2 + 2 * 4)  # warm-up, then untimed + timed per turn
    alone = _CountingGenerator()
    assert inference.time_in_turns({"alone": alone}, sketch, 32, 1, repeats=3)["alone"] > 0
    assert alone.batches == [1] * (2 + 3)  # one generator: no untimed calls between turns


def test_onnx_alone_has_no_speedup_to_report() -> None:
    rows = inference.run(
        _args("--inference-quick", "--inference-batches", "1", "--inference-backends", "onnx")
    )
    assert [row.case for row in rows] == ["onnx 32px b1"]
    assert rows[0].values["ms_per_sketch"] > 0
    assert "speedup_vs_keras" not in rows[0].values


def test_onnx_gives_the_float32_keras_photo(tmp_path: Path) -> None:
    """The ONNX export through the same inference path: the same photo within 1 level."""
    keras.utils.set_random_seed(0)
    generator = build_generator(32, 8)
    sketch = inference.sketch_png(32)
    onnx = inference.onnx_twin(generator, tmp_path)
    expected = generate_photo(generator, sketch, 32)
    photo = generate_photo(onnx, sketch, 32)
    assert photo.shape == expected.shape == (32, 32, 3) and photo.dtype == np.uint8
    difference = np.abs(photo.astype(np.int16) - expected.astype(np.int16))
    assert difference.max() <= 1
    assert expected.std() > 0  # not a constant image, which any model would match


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="comma-separated integers"):
        inference.run(_args("--inference-quick", "--inference-batches", "one"))
    with pytest.raises(ValueError, match="comma-separated integers"):
        inference.run(_args("--inference-sizes", "64,big"))
    with pytest.raises(ValueError, match="--inference-backends takes any of keras, onnx"):
        inference.run(_args("--inference-quick", "--inference-backends", "keras,tflite"))
