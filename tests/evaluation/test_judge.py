"""The faithfulness judge: its settings, the batch-norm recalibration, and the progress its
training logs (the judge's accuracy on real shards is in tests/pipelines/evaluation)."""

from __future__ import annotations

import logging

import keras
import numpy as np
import pytest

from sketch_to_photo.evaluation.judge import (
    judge_settings,
    recalibrate_batch_norm,
    train_judge_ensemble,
)
from sketch_to_photo.models.faithfulness import JudgeSettings

FAITHFULNESS = {"image_size": 32, "epochs": 4, "batch_size": 8, "learning_rate": 1e-3, "seed": 0}


def test_settings_default_to_one_judge_and_reject_an_empty_ensemble():
    settings, ensemble, weights = judge_settings({"faithfulness": FAITHFULNESS})
    assert settings == JudgeSettings(32, 4, 8, 1e-3, 0) and (ensemble, weights) == (1, "auto")
    with pytest.raises(ValueError, match="ensemble must be at least 1, got 0"):
        judge_settings({"faithfulness": {**FAITHFULNESS, "ensemble": 0}})


def test_recalibration_leaves_the_mean_of_the_chunks_statistics():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.BatchNormalization()(inputs))
    layer = model.layers[-1]
    images = np.arange(40, dtype=np.float32).reshape(10, 4)
    recalibrate_batch_norm(model, images, chunk=5)
    expected = (images[:5].mean(axis=0) + images[5:].mean(axis=0)) / 2
    assert np.allclose(np.asarray(layer.moving_mean), expected)
    assert layer.momentum == 0.99  # put back


def test_training_logs_each_judge_s_progress(caplog):
    rng = np.random.default_rng(0)
    shards = {
        f"train/{name}-00000": (
            lambda label=label: {
                "photos": rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8),
                "photo_ids": np.array([f"{label}_{i // 2}" for i in range(6)]),
                "labels": np.full(6, label, np.int16),
            }
        )
        for label, name in enumerate(("ant", "bee"))
    }
    settings = JudgeSettings(image_size=32, epochs=2, batch_size=4, seed=0)
    with caplog.at_level(logging.INFO):
        judge, summary = train_judge_ensemble(shards, settings, 2, "none")
    assert summary["ensemble"] == 2 and summary["train_photos"] == 6
    assert judge.output_shape == (None, 2)
    progress = [r.getMessage() for r in caplog.records if "Faithfulness judge " in r.getMessage()]
    for member in (1, 2):
        for epoch in (1, 2):
            assert any(
                m.startswith(f"Faithfulness judge {member} of 2: epoch {epoch}/2: ") and "loss" in m
                for m in progress
            ), progress
