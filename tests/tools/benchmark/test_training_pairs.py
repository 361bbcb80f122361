"""The training benchmark's input: synthetic pairs that look like sketches and photos."""

from __future__ import annotations

import numpy as np

from sketch_to_photo.tools.benchmark import training_pairs


def test_synthetic_pairs_are_real_looking_and_in_range() -> None:
    sketches, photos = training_pairs.synthetic_pairs(6, 32)
    assert sketches.shape == photos.shape == (6, 32, 32, 3)
    assert sketches.dtype == np.float32
    assert sketches.min() >= -1 and sketches.max() <= 1
    assert np.median(sketches) > 0.9  # mostly white paper
    assert photos.std() > 0.1  # a photo, not blank
