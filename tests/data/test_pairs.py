"""Shard names, and what the shards' small arrays say: labels, each photo's first pair."""

from __future__ import annotations

import numpy as np

from sketch_to_photo.data.pairs import first_of_each_photo, shard_labels, split_and_category


def test_split_and_category_of_a_name_with_dashes():
    assert split_and_category("train/jack-o-lantern-00002") == ("train", "jack-o-lantern")


def test_first_of_each_photo_among_the_usable_pairs_and_across_shards():
    ids = np.array(["a", "a", "b", "c", "b", "c"])
    assert first_of_each_photo(ids).tolist() == [True, False, True, True, False, False]
    usable = np.array([False, True, True, False, True, True])
    assert first_of_each_photo(ids, usable).tolist() == [False, True, True, False, False, True]
    seen: set[str] = set()
    assert first_of_each_photo(np.array(["a", "b"]), seen=seen).tolist() == [True, True]
    assert first_of_each_photo(np.array(["b", "c"]), seen=seen).tolist() == [False, True]
    assert seen == {"a", "b", "c"}
    assert first_of_each_photo(np.array([], dtype=str)).shape == (0,)


def test_shard_labels_name_each_category_once():
    shards = {
        "train/ant-00000": lambda: {"labels": np.array([0, 0], np.int16)},
        "test/ant-00000": lambda: {"labels": np.array([0], np.int16)},
        "test/bee-00000": lambda: {"labels": np.array([1], np.int16)},
        "validation/cat-00000": lambda: {"labels": np.zeros(0, np.int16)},  # empty: no label
    }
    assert shard_labels(shards) == {"ant": 0, "bee": 1}
