"""The ceiling section: real matrix products, figures other sections can divide by."""

from __future__ import annotations

import argparse
import math

import pytest

from sketch_to_photo.benchmark import ceiling


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ceiling.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_documented_measurement() -> None:
    args = _args()
    assert (args.ceiling_size, args.ceiling_repeats) == (4096, 10)


def test_small_products_give_both_dtypes_and_feed_the_fractions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ceiling, "MEASURED", {})
    rows = ceiling.run(_args("--ceiling-size", "256", "--ceiling-repeats", "2"))
    assert [row.case for row in rows] == ["matmul float32", "matmul bfloat16"]
    for row in rows:
        assert row.section == "ceiling"
        assert math.isfinite(row.values["gflops"]) and row.values["gflops"] > 0
        assert row.values["size"] == 256 and row.values["cores"] >= 1
    assert set(ceiling.MEASURED) == {"float32", "bfloat16"}
    fractions = ceiling.fractions(ceiling.MEASURED["float32"])
    assert fractions["pct_float32_ceiling"] == pytest.approx(100.0)
    assert fractions["pct_bfloat16_ceiling"] > 0


def test_no_ceiling_measured_means_no_fractions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ceiling, "MEASURED", {})
    assert ceiling.fractions(123.0) == {}


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        ceiling.matmul_gflops(0, "float32", 1)
