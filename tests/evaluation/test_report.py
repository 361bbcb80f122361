"""The report from per-image scores: means that skip NaN, the real photos' scores, the bars
the model must clear."""

from __future__ import annotations

import pytest

from sketch_to_photo.evaluation.report import build_report
from tests.evaluation.hand_made import _collected


def test_report_says_whether_the_model_beats_both_baselines():
    report = build_report(_collected(0.09))
    assert report["test_pairs"] == 4 and report["per_category"]["teapot"]["pairs"] == 2
    assert report["overall"]["model"]["l1"] == pytest.approx(0.09)
    assert set(report["overall"]) == {
        "model", "untrained", "mean_photo", "sketch_copy", "blurred_photos",
    }  # fmt: skip
    real = report["real_photos"]
    assert (real["faithfulness"], real["per_category"]) == (
        1.0,
        {"car_(sedan)": 1.0, "teapot": 1.0},
    )
    assert real["stroke_recall"] == pytest.approx(0.65) and real["fill"] == pytest.approx(0.6)
    assert report["overall"]["model"]["stroke_recall"] == pytest.approx(0.8)  # NaN skipped
    assert report["beats_baselines"] == {
        "l1": True, "ssim": True, "psnr": True, "perceptual": True, "faithfulness": True,
        "stroke_recall": True, "chamfer": True, "fill": True,
    }  # fmt: skip
    # the sketch copy is not a bar on stroke recall (perfect by construction), but is on fill
    assert (
        build_report(_collected(0.09, model_recall=0.25))["beats_baselines"]["stroke_recall"]
        is False
    )
    assert (
        build_report(_collected(0.2))["beats_baselines"]["l1"] is False
    )  # worse than the mean photo
    assert build_report(_collected(0.09, 0.5))["beats_baselines"]["faithfulness"] is False  # a tie
