"""Report logic of the evaluation pipeline (the full run is in test_training_run)."""

from __future__ import annotations

from collections import defaultdict

import pytest

from sketch_to_photo.pipelines.evaluation import nodes
from sketch_to_photo.pipelines.evaluation.nodes import (
    _inception_features_model,
    _mlflow_metrics,
    _report,
)


def _collected(model_l1: float) -> dict:
    collected = defaultdict(lambda: {s: defaultdict(list) for s in nodes.SYSTEMS})
    for category in ("car_(sedan)", "teapot"):
        for system, l1, ssim in (
            ("model", model_l1, 0.6),
            ("untrained", 0.4, 0.4),
            ("mean_photo", 0.15, 0.35),
        ):
            values = collected[category][system]
            values["l1"] += [l1, l1]
            values["ssim"] += [ssim, ssim]
            values["psnr"] += [14.0 if system == "model" else 10.0] * 2
            values["perceptual"] += [0.9 if system == "model" else 1.5] * 2
    return collected


def test_report_says_whether_the_model_beats_both_baselines():
    report = _report(_collected(0.09))
    assert report["test_pairs"] == 4 and report["per_category"]["teapot"]["pairs"] == 2
    assert report["overall"]["model"]["l1"] == pytest.approx(0.09)
    assert report["beats_baselines"] == {"l1": True, "ssim": True, "psnr": True, "perceptual": True}
    assert _report(_collected(0.2))["beats_baselines"]["l1"] is False  # worse than the mean photo


def test_mlflow_metric_names_are_valid():
    report = {**_report(_collected(0.09)), "fid": None}
    names = set(_mlflow_metrics(report))
    assert {"test_l1", "baseline_mean_photo_l1", "test_car_sedan_l1", "test_teapot_ssim"} <= names
    assert all("(" not in name for name in names)


def test_fid_is_skipped_with_a_reason(tmp_path, monkeypatch):
    assert _inception_features_model("none") == (None, "disabled (evaluation.fid_weights: none)")
    model, reason = _inception_features_model(str(tmp_path / "missing.h5"))
    assert model is None and "not found" in reason
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras when KERAS_HOME is not writable
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(nodes, "INCEPTION_NOTOP_URL", "http://127.0.0.1:9/inception.h5")
    monkeypatch.setattr(nodes, "CONNECT_TIMEOUT_S", 2.0)
    model, reason = _inception_features_model("auto")
    assert model is None and "cannot be downloaded" in reason and str(tmp_path / "keras") in reason
