"""The split by photo."""

from __future__ import annotations

import pandas as pd
import pytest

from sketch_to_photo.data.processing.splitting import split_photos


def _photos() -> pd.DataFrame:
    rows = [("ant", f"n{i}", i < 2) for i in range(12)] + [
        ("bee", f"m{i}", False) for i in range(6)
    ]
    return pd.DataFrame(rows, columns=["category", "photo_id", "in_testset"])


def test_each_photo_gets_one_split_seeded_with_the_testset_in_test():
    splits = split_photos(_photos(), 3, 0.2, 0.2)
    assert len(splits) == 18 and splits["photo_id"].is_unique
    of = dict(zip(splits["photo_id"], splits["split"], strict=True))
    assert of["n0"] == of["n1"] == "test"
    assert splits.equals(split_photos(_photos(), 3, 0.2, 0.2))
    assert set(splits["split"]) == {"train", "validation", "test"}


def test_fractions_must_leave_a_train_split():
    with pytest.raises(ValueError, match=r"sum below 1, got 0.5 and 0.5"):
        split_photos(_photos(), 3, 0.5, 0.5)
