"""The feature networks: FID is skipped with a reason when InceptionV3's weights cannot be had."""

from __future__ import annotations

from sketch_to_photo.evaluation import feature_models
from sketch_to_photo.evaluation.feature_models import inception_features_model


def test_fid_is_skipped_with_a_reason(tmp_path, monkeypatch):
    assert inception_features_model("none") == (None, "disabled (evaluation.fid_weights: none)")
    model, reason = inception_features_model(str(tmp_path / "missing.h5"))
    assert model is None and "not found" in reason
    (tmp_path / "keras").mkdir()  # Keras falls back to /tmp/.keras when KERAS_HOME is not writable
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(feature_models, "INCEPTION_NOTOP_URL", "http://127.0.0.1:9/inception.h5")
    monkeypatch.setattr(feature_models, "CONNECT_TIMEOUT_S", 2.0)
    model, reason = inception_features_model("auto")
    assert model is None and "cannot be downloaded" in reason and str(tmp_path / "keras") in reason
