"""The ceiling section: real matrix products, figures other sections can divide by."""

from __future__ import annotations

import argparse
import math
import os

import pytest

from sketch_to_photo.tools.benchmark import ceiling
from tests.tools.benchmark.documented import one, section


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ceiling.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_documented_measurement(monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/benchmarks.md's ceiling is "matrix product 4096x4096 (best of 10)": run() with the
    defaults must time exactly that, for both dtypes."""
    documented = one(r"matrix product (\d+)x\1 \(best of (\d+)\)", section("Machine ceiling"))
    size, repeats = int(documented.group(1)), int(documented.group(2))
    timed = []

    def fake_matmul_gflops(size: int, dtype: str, repeats: int) -> float:
        timed.append((size, dtype, repeats))
        return 100.0

    monkeypatch.setattr(ceiling, "matmul_gflops", fake_matmul_gflops)
    monkeypatch.setattr(ceiling, "MEASURED", {})
    rows = ceiling.run(_args())
    assert timed == [(size, "float32", repeats), (size, "bfloat16", repeats)]
    assert [row.values["size"] for row in rows] == [size, size]


def test_small_products_give_both_dtypes_and_feed_the_fractions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ceiling, "MEASURED", {})
    rows = ceiling.run(_args("--ceiling-size", "256", "--ceiling-repeats", "2"))
    assert [row.case for row in rows] == ["matmul float32", "matmul bfloat16"]
    for row in rows:
        assert row.section == "ceiling"
        assert math.isfinite(row.values["gflops"]) and row.values["gflops"] > 0
        assert row.values["size"] == 256 and row.values["cores"] == os.cpu_count()
    assert set(ceiling.MEASURED) == {"float32", "bfloat16"}
    fractions = ceiling.fractions(ceiling.MEASURED["float32"])
    assert fractions["pct_float32_ceiling"] == pytest.approx(100.0)
    by_dtype = {row.case.removeprefix("matmul "): row.values["gflops"] for row in rows}
    assert ceiling.MEASURED == by_dtype  # the rows' own figures, not a later measurement
    assert fractions["pct_bfloat16_ceiling"] == pytest.approx(
        100.0 * by_dtype["float32"] / by_dtype["bfloat16"]
    )


def test_no_ceiling_measured_means_no_fractions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ceiling, "MEASURED", {})
    assert ceiling.fractions(123.0) == {}


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        ceiling.matmul_gflops(0, "float32", 1)
