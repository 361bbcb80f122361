"""The ``data`` benchmark section end to end at tiny sizes (synthetic photos, seconds)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pytest

from sketch_to_photo.tools.benchmark import data

# The full Sketchy database (Sangkloy et al. 2016), as docs/benchmarks.md quotes it.
SKETCHY_PHOTOS, SKETCHY_SKETCHES = 12_500, 75_471


def _args(tmp_path) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    data.add_arguments(parser)
    return parser.parse_args(
        ["--data-quick", "--data-workers", "2", "--data-photos", str(tmp_path / "none")]
    )


def _count_the_tree(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """What the generated tree holds, counted from its files as soon as it is written: sketches
    not in the error/ambiguous lists (the pairs the pipeline makes) and photo sides."""
    counted: dict[str, int] = {}
    generate = data._synthetic_tree  # noqa: SLF001

    def counting(folder: Path, quick: bool) -> Path:
        root = generate(folder, quick)
        sketches = {p.stem for p in (root / "256x256" / "sketch").rglob("*.png")}
        invalid = {
            line.strip()
            for name in ("invalid-error.txt", "invalid-ambiguous.txt")
            for line in (root / "info" / name).read_text().splitlines()
        }
        counted["valid_sketches"] = len(sketches - invalid)
        counted["invalid_sketches"] = len(sketches & invalid)
        return root

    monkeypatch.setattr(data, "_synthetic_tree", counting)
    return counted


def test_quick_data_section_measures_every_case(tmp_path, monkeypatch):
    counted = _count_the_tree(monkeypatch)
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
    # --data-quick segments 4 photos of the synthetic tree, drawn at 96 px
    assert by_case["segment full GrabCut (reference)"].note.startswith("4 synthetic photos, 96x96")
    reference = by_case["segment full GrabCut (reference)"].values
    fast = by_case["segment fast"].values
    for timed in (reference, fast):
        assert timed["photos_per_s_per_core"] == pytest.approx(1000 / timed["ms_per_photo"])
    assert fast["speedup"] == pytest.approx(reference["ms_per_photo"] / fast["ms_per_photo"])
    for agreement in (fast, by_case["reference reseeded vs reference"].values):
        assert 0 <= agreement["iou_min"] <= agreement["iou_median"] <= 1
        assert agreement["iou_min"] <= agreement["iou_mean"] <= 1
    pool = by_case["segment fast, pool of 2"].values
    assert pool["photos_per_s_per_core"] == pytest.approx(pool["photos_per_s"] / 2)
    # every sketch that is not on an invalid list becomes a pair (no split is held back)
    written = by_case["pairs written"].values
    assert counted["invalid_sketches"] > 0  # the lists are applied, not just absent
    assert written["pairs"] == counted["valid_sketches"]
    estimate = by_case["full Sketchy estimate"].values
    assert estimate["segment_min"] == pytest.approx(SKETCHY_PHOTOS / pool["photos_per_s"] / 60)
    assert estimate["pairs_min"] == pytest.approx(SKETCHY_SKETCHES / written["pairs_per_s"] / 60)
    assert math.isclose(estimate["total_min"], estimate["segment_min"] + estimate["pairs_min"])


def test_mask_iou_of_known_masks():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[:2] = True  # 8 pixels
    b[1:3] = True  # 8 pixels, 4 shared
    assert data.mask_iou(a, b) == pytest.approx(4 / 12)
    assert data.mask_iou(a, a) == 1.0
    assert data.mask_iou(a, ~a) == 0.0
    assert data.mask_iou(np.zeros((4, 4), bool), np.zeros((4, 4), bool)) == 1.0  # both empty


def test_rejects_negative_limit(tmp_path):
    args = _args(tmp_path)
    args.data_limit = -1
    with pytest.raises(SystemExit, match="--data-limit"):
        data.run(args)
