"""Fingerprints of resumable work."""

from __future__ import annotations

import numpy as np

from sketch_to_photo.data.processing.fingerprints import fingerprint, fingerprint_of
from sketch_to_photo.datasets import NpzShardsDataset, ResumableShard


def test_a_fingerprint_follows_its_parts_and_the_input_versions():
    base = fingerprint({"size": 64}, ["a", "b"], versions=["v1", "v2"])
    assert base == fingerprint({"size": 64}, ["a", "b"], versions=iter(["v1", "v2"]))
    assert len(base) == 20
    assert base != fingerprint({"size": 32}, ["a", "b"], versions=["v1", "v2"])
    assert base != fingerprint({"size": 64}, ["a", "b"], versions=["v1", "v3"])


def test_the_fingerprint_of_a_shard_in_memory_saved_or_without_one(tmp_path):
    arrays = {"x": np.zeros(2)}
    assert fingerprint_of(ResumableShard("fp-1", lambda: arrays)) == "fp-1"
    NpzShardsDataset(path=str(tmp_path / "s")).save(
        {"a": ResumableShard("fp-a", lambda: arrays), "b": arrays}
    )
    loaded = NpzShardsDataset(path=str(tmp_path / "s")).load()
    assert fingerprint_of(loaded["a"]) == "fp-a" and fingerprint_of(loaded["b"]) is None
    assert fingerprint_of(lambda: arrays) is None  # a plain dict has no fingerprint
