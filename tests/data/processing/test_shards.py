"""The pair shards' settings are checked before anything is read (pairing itself is tested
through the node in tests/pipelines/data_processing/test_nodes.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from sketch_to_photo.data.processing.shards import FALLBACKS, build_pair_shards

NO_SKETCHES = pd.DataFrame(
    columns=["category", "augmentation", "photo_augmentation", "sketch_id", "photo_id",
             "sketch_path", "photo_path", "invalid"]
)  # fmt: skip
NO_SPLITS = pd.DataFrame(columns=["category", "photo_id", "split"])


def test_an_unknown_fallback_or_an_empty_shard_size_is_refused():
    with pytest.raises(ValueError, match=r"segmentation_fallback must be one of"):
        build_pair_shards(NO_SKETCHES, NO_SPLITS, {}, None, ["ant"], 64, "keep", 10)
    with pytest.raises(ValueError, match=r"max_pairs_per_shard must be >= 1, got 0"):
        build_pair_shards(NO_SKETCHES, NO_SPLITS, {}, None, ["ant"], 64, FALLBACKS[0], 0)


def test_no_valid_sketch_makes_no_shard():
    assert build_pair_shards(NO_SKETCHES, NO_SPLITS, {}, None, ["ant"], 64, "drop", 10) == {}
