"""The manifest's counting rule on hand-made tables and shards."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from sketch_to_photo.data.processing.manifest import COUNT_COLUMNS, summarise_pairs

INDEX = {"categories": ["ant"], "augmentations": ["tx_000000000000"], "invalid_lists": ["error"]}


def test_every_sketch_is_counted_once_under_its_photo_s_split():
    sketches = pd.DataFrame(
        {"category": "ant", "photo_id": ["a", "a", "b", "c"], "sketch_id": ["a-1", "a-2", "b-1", "c-1"],
         "invalid": ["", "error", "", ""]}
    )  # fmt: skip
    splits = pd.DataFrame(
        {"category": "ant", "photo_id": ["a", "b", "c"], "split": ["train", "train", "test"]}
    )
    empty = np.zeros(0, np.str_)
    pair_shards = {
        "train/ant-00000": lambda: {"sketch_ids": np.array(["a-1"]), "photo_ids": np.array(["a"]),
                                    "dropped_unreadable_ids": np.array(["b-1"]), "dropped_segmentation_ids": empty},
        "test/ant-00000": lambda: {"sketch_ids": np.array(["c-1"]), "photo_ids": np.array(["c"]),
                                   "dropped_unreadable_ids": empty, "dropped_segmentation_ids": empty},
    }  # fmt: skip
    segmented = {
        "tx_000000000000/ant": lambda: {
            "photo_ids": np.array(["a", "b", "c"]), "segmentation_failed": np.array([False, True, False]),
            "failure_reason": np.array(["", "too_small", ""]), "retry_failure_reason": np.array(["", "", ""]),
            "init": np.array(["bbox", "inset", "inset"]), "unreadable_photo_ids": empty,
        }
    }  # fmt: skip
    tree = SimpleNamespace(source="synthetic", root="sketchy")
    manifest = summarise_pairs(sketches, splits, pair_shards, segmented, tree, INDEX)
    train = manifest["counts"]["ant"]["train"]
    assert train == {"sketches_seen": 3, "dropped_invalid": 1, "dropped_unreadable": 1,
                     "dropped_segmentation": 0, "pairs": 1}  # fmt: skip
    for counts in manifest["per_split"].values():
        assert counts["sketches_seen"] == sum(counts[c] for c in COUNT_COLUMNS[1:])
    assert manifest["totals"]["pairs"] == 2 and manifest["photos_per_split"]["train"] == 2
    assert manifest["segmentation"]["failure_reasons"]["too_small"] == 1
    assert manifest["segmentation"]["failed"] == 1 and manifest["segmentation"]["init"] == {
        "bbox": 1,
        "inset": 2,
    }
    assert [s["name"] for s in manifest["shards"]] == ["train/ant-00000", "test/ant-00000"]
