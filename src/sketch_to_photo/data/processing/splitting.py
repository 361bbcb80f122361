"""The split: each photo (never a single sketch) to train, validation or test, seeded per
category, Sketchy's test photos always to test."""

from __future__ import annotations

import logging
import zlib

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


def split_photos(
    photos: pd.DataFrame, seed: int, validation_fraction: float, test_fraction: float
) -> pd.DataFrame:
    """Assign each photo (never a single sketch) to train, validation or test.

    Photos in Sketchy's ``testset.txt`` always go to test. Of the others, per category, a
    seeded shuffle sends ``test_fraction`` to test and ``validation_fraction`` to validation.
    A photo id gets one split whatever augmentation folder it appears in.
    """
    if not (
        0 <= validation_fraction < 1
        and 0 <= test_fraction < 1
        and validation_fraction + test_fraction < 1
    ):
        raise ValueError(
            "split.validation_fraction and split.test_fraction must be in [0, 1) with a sum below 1, "
            f"got {validation_fraction} and {test_fraction}"
        )
    unique = photos.drop_duplicates(["category", "photo_id"])[
        ["category", "photo_id", "in_testset"]
    ]
    assignments = []
    for category, group in unique.groupby("category", sort=True):
        held_out = sorted(group.loc[group["in_testset"], "photo_id"])
        rest = np.array(sorted(group.loc[~group["in_testset"], "photo_id"]), dtype=object)
        # A per-category seed keeps each category's split stable when others are added.
        rng = np.random.default_rng([seed, zlib.crc32(category.encode())])
        rest = rest[rng.permutation(len(rest))]
        n_test = round(test_fraction * len(rest))
        n_validation = round(validation_fraction * len(rest))
        if validation_fraction > 0 and n_validation == 0 and len(rest) - n_test >= 2:
            n_validation = 1
        for photo_id in held_out:
            assignments.append((category, photo_id, "test"))
        for i, photo_id in enumerate(rest):
            name = "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
            assignments.append((category, photo_id, name))
    splits = pd.DataFrame(assignments, columns=["category", "photo_id", "split"])
    logger.info("Photos per split: %s", splits["split"].value_counts().to_dict())
    return splits.sort_values(["category", "photo_id"], ignore_index=True)
