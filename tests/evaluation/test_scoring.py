"""The test loop on hand-made shards: batches, per-image scores of every system, the real
photos once per photo, grid rows, and a progress line per test shard."""

from __future__ import annotations

import logging

import numpy as np

from sketch_to_photo.evaluation.baselines import REAL
from sketch_to_photo.evaluation.scoring import score_systems, shard_batches
from sketch_to_photo.models.classifier import build_small_classifier
from tests.evaluation.shards import pair_arrays

SIZE = 32


class _NoDistance:
    """A perceptual distance of zero (the VGG16 one is tested in tests/models)."""

    def distance(self, real, generated):
        return np.zeros(len(real), np.float32)


def _shards(rng):
    return {
        "test/ant-00000": pair_arrays(rng, ["a0", "a0", "a1", "a2", "a2"], 0, SIZE),
        "test/bee-00000": pair_arrays(rng, ["b0", "b1", "b1"], 1, SIZE),
    }


def test_a_shard_in_batches_with_the_classifier_s_guesses():
    shard = _shards(np.random.default_rng(0))["test/ant-00000"]
    batches = shard_batches(shard, SIZE, 2, build_small_classifier(2, 48))
    assert [len(b.labels) for b in batches] == [2, 2, 1]
    assert (
        batches[0].sketches.shape == (2, SIZE, SIZE, 3) and batches[0].sketches.dtype == np.float32
    )
    assert all(b.guesses is not None and len(b.guesses) == len(b.labels) for b in batches)
    assert shard_batches(shard, SIZE, 4, None)[0].guesses is None


def test_every_system_is_scored_on_every_pair_and_each_shard_logs_progress(caplog):
    arrays = _shards(np.random.default_rng(1))
    loaders = {name: (lambda a=a: a) for name, a in arrays.items()}
    systems = {"model": lambda batch: -batch.sketches, "sketch_copy": lambda batch: batch.sketches}
    judge = build_small_classifier(2, SIZE)
    with caplog.at_level(logging.INFO, logger="sketch_to_photo.evaluation.scoring"):
        scores = score_systems(systems, loaders, SIZE, 2, _NoDistance(), judge, None, None, 1)
    for category, pairs, photos in (("ant", 5, 3), ("bee", 3, 2)):
        for system in systems:
            values = scores.collected[category][system]
            assert {len(values[m]) for m in ("l1", "faithfulness", "stroke_recall")} == {pairs}
        assert len(scores.collected[category][REAL]["faithfulness"]) == pairs
        assert sum(len(b) for b in scores.outputs_u8[category][REAL]) == photos  # once per photo
        assert sum(len(b) for b in scores.outputs_u8[category]["model"]) == pairs
    assert [row["category"] for row in scores.grid_rows] == ["ant", "bee"]  # one per category
    assert scores.guess_right == [] and scores.real_features == []
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        m.startswith(
            "Evaluated test shard 1 of 2 (test/ant-00000): 5 pairs through 2 systems; 5 pairs in "
        )
        for m in lines
    ), lines
    assert any(
        m.startswith(
            "Evaluated test shard 2 of 2 (test/bee-00000): 3 pairs through 2 systems; 8 pairs in "
        )
        for m in lines
    ), lines
