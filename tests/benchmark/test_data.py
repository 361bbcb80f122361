"""The ``data`` benchmark section end to end at tiny sizes (synthetic photos, seconds)."""

from __future__ import annotations

import argparse
import math

import pytest

from sketch_to_photo.benchmark import data


def _args(tmp_path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    data.add_arguments(parser)
    return parser.parse_args(
        ["--data-quick", "--data-workers", "2", "--data-photos", str(tmp_path / "none")]
    )


def test_quick_data_section_measures_every_case(tmp_path):
    rows = data.run(_args(tmp_path))
    by_case = {row.case: row for row in rows}
    assert all(row.section == "data" for row in rows)
    assert {
        "segment full GrabCut (reference)",
        "segment fast",
        "reference reseeded vs reference",
        "segment fast, pool of 2",
        "pairs written",
        "full Sketchy estimate",
    } == set(by_case)
    for row in rows:
        assert row.values and all(math.isfinite(v) and v >= 0 for v in row.values.values()), row
    fast = by_case["segment fast"].values
    assert fast["photos_per_s_per_core"] > 0 and 0 <= fast["iou_min"] <= fast["iou_mean"] <= 1
    assert by_case["pairs written"].values["pairs"] > 0
    estimate = by_case["full Sketchy estimate"].values
    assert math.isclose(estimate["total_min"], estimate["segment_min"] + estimate["pairs_min"])


def test_rejects_negative_limit(tmp_path):
    args = _args(tmp_path)
    args.data_limit = -1
    with pytest.raises(SystemExit, match="--data-limit"):
        data.run(args)
