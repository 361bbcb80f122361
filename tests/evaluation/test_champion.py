"""The champion rule on hand-made reports (the tie-break against a registered champion is in
tests/pipelines/evaluation/test_nodes.py)."""

from __future__ import annotations

from sketch_to_photo.evaluation.champion import champion_disqualification
from sketch_to_photo.evaluation.report import build_report
from tests.evaluation.hand_made import _collected, _with_photo_kid


def test_a_model_must_beat_the_mean_photo_on_faithfulness_and_the_champion_metric():
    assert champion_disqualification(build_report(_collected(0.09)), "test_l1") is None
    reason = champion_disqualification(build_report(_collected(0.2, 0.5)), "test_l1")
    assert reason.startswith("test_faithfulness 0.5000 does not beat the mean photo's 0.5000")
    assert "test_l1 0.2000 does not beat the mean photo's 0.1500 (lower is better)" in reason
    only_l1 = champion_disqualification(build_report(_collected(0.2)), "test_faithfulness")
    assert only_l1 is None  # faithfulness is the champion metric: L1 is not gated then


def test_a_blob_or_a_line_drawing_is_never_champion():
    good = _with_photo_kid(build_report(_collected(0.09)), model_kid=5.0)
    assert champion_disqualification(good, "test_faithfulness") is None
    blob = champion_disqualification(
        _with_photo_kid(build_report(_collected(0.09, model_recall=0.25)), 5.0), "test_faithfulness"
    )
    assert blob == (
        "test_stroke_recall 0.2500 does not beat the untrained's 0.3000 (higher is better)"
    )
    lines = champion_disqualification(
        _with_photo_kid(build_report(_collected(0.09)), model_kid=35.0), "test_faithfulness"
    )
    assert "test_photo_kid 35.0000 does not beat the sketch copy's 30.0000 (lower is better)" in (
        lines
    )
    assert "mean photo's 20.0000" in lines and "untrained's 9.0000" in lines
    # evaluation.champion_shape_metrics picks the bars; [] turns them off
    blob_report = _with_photo_kid(build_report(_collected(0.09, model_recall=0.25)), 35.0)
    assert champion_disqualification(blob_report, "test_faithfulness", []) is None
    only_kid = champion_disqualification(blob_report, "test_faithfulness", ["photo_kid"])
    assert "photo_kid" in only_kid and "stroke_recall" not in only_kid
