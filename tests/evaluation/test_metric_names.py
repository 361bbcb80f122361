"""The metrics' MLflow names and the headline numbers."""

from __future__ import annotations

import pytest

from sketch_to_photo.evaluation.metric_names import headline_metrics, mlflow_metrics
from sketch_to_photo.evaluation.report import build_report
from tests.evaluation.hand_made import _collected


def test_mlflow_metric_names_are_valid():
    report = {**build_report(_collected(0.09)), "fid": None}
    names = set(mlflow_metrics(report))
    assert {
        "test_l1", "baseline_mean_photo_l1", "test_car_sedan_l1", "test_teapot_ssim",
        "test_faithfulness", "test_faithfulness_real_photos", "baseline_untrained_faithfulness",
        "baseline_mean_photo_faithfulness", "test_car_sedan_faithfulness",
        "test_teapot_faithfulness_real_photos", "test_stroke_recall", "test_chamfer", "test_fill",
        "baseline_sketch_copy_stroke_recall", "baseline_blurred_photos_fill",
        "test_stroke_recall_real_photos", "test_teapot_stroke_recall",
    } <= names  # fmt: skip
    assert all("(" not in name for name in names)


def test_headline_metrics_sit_beside_what_they_are_read_against():
    report = build_report(_collected(0.09))
    headline = headline_metrics(report)
    overall = report["overall"]
    close = {"abs": 5e-5}  # rounded to four decimals, to read in a column
    assert headline["faithfulness"] == pytest.approx(overall["model"]["faithfulness"], **close)
    assert headline["faithfulness_mean_photo"] == pytest.approx(
        overall["mean_photo"]["faithfulness"], **close
    )
    assert headline["faithfulness_real_photos"] == pytest.approx(
        report["real_photos"]["faithfulness"], **close
    )
    assert headline["l1_mean_photo"] == pytest.approx(overall["mean_photo"]["l1"], **close)
    assert headline["fill_sketch_copy"] == pytest.approx(overall["sketch_copy"]["fill"], **close)
    # sorted by name, each model value comes first with its comparisons after it
    names = sorted(headline)
    for metric in ("faithfulness", "stroke_recall", "chamfer", "fill", "l1", "ssim"):
        group = [n for n in names if n == metric or n.startswith(f"{metric}_")]
        assert group[0] == metric and len(group) >= 2, group
    logged = mlflow_metrics({**report, "fid": None})
    assert {f"headline/{n}" for n in headline} <= set(logged)
    assert logged["headline/l1"]["value"] == pytest.approx(logged["test_l1"]["value"], **close)
