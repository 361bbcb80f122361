"""DiffAugment of the discriminator's inputs: pairs move together, real and generated alike."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.models.augment import AUGMENTATIONS, augment_pairs

SIZE = 32
BATCH = 16


def _dots() -> tuple[np.ndarray, np.ndarray]:
    """White frames with one black dot at the centre (sketches) and a red one (photos)."""
    sketches = np.ones((BATCH, SIZE, SIZE, 3), np.float32)
    sketches[:, SIZE // 2, SIZE // 2] = -1.0
    photos = np.ones_like(sketches)
    photos[:, SIZE // 2, SIZE // 2] = [1.0, -1.0, -1.0]
    return sketches, photos


def _dot_positions(images: np.ndarray) -> list[tuple[int, int]]:
    found = []
    for image in images:
        ys, xs = np.nonzero(image[..., 1] < 0)
        found.append((int(ys[0]), int(xs[0])) if len(ys) else (-1, -1))
    return found


def test_a_shift_moves_the_sketch_and_both_photos_alike_within_an_eighth() -> None:
    tf.random.set_seed(0)
    sketches, photos = _dots()
    moved_sketches, (moved_real, moved_fake) = augment_pairs(
        sketches, [photos, photos.copy()], ["translation"]
    )
    where = _dot_positions(moved_sketches.numpy())
    assert where == _dot_positions(moved_real.numpy()) == _dot_positions(moved_fake.numpy())
    shifts = np.abs(np.array(where) - SIZE // 2)
    assert shifts.max() <= SIZE // 8 and shifts.max() > 0
    assert len(set(where)) > 1  # each image has its own draw
    assert np.all(moved_sketches.numpy()[..., 1][moved_sketches.numpy()[..., 1] > -1] == 1.0)


def test_a_cutout_hides_the_same_square_of_the_sketch_and_both_photos() -> None:
    tf.random.set_seed(1)
    sketches, photos = _dots()
    cut_sketches, (cut_real, cut_fake) = augment_pairs(sketches, [photos, photos], ["cutout"])
    holes = [
        np.all(images.numpy() == 0.0, axis=-1) for images in (cut_sketches, cut_real, cut_fake)
    ]
    np.testing.assert_array_equal(holes[0], holes[1])
    np.testing.assert_array_equal(holes[0], holes[2])
    areas = holes[0].sum(axis=(1, 2))
    assert areas.max() == (SIZE // 2) ** 2  # a whole square where it fits in the frame
    assert areas.min() > 0


def test_colour_changes_the_photos_alike_and_leaves_the_sketches() -> None:
    tf.random.set_seed(2)
    rng = np.random.default_rng(0)
    sketches = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype(np.float32)
    photos = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype(np.float32)
    same_sketches, (real, fake) = augment_pairs(sketches, [photos, photos], ["colour"])
    np.testing.assert_array_equal(same_sketches.numpy(), sketches)
    np.testing.assert_allclose(real.numpy(), fake.numpy())
    change = np.abs(real.numpy() - photos).mean(axis=(1, 2, 3))
    assert change.min() > 0.01 and len(np.unique(change.round(4))) > 1


def test_the_generators_gradient_flows_through_every_augmentation() -> None:
    sketches, photos = _dots()
    fakes = tf.Variable(photos)
    with tf.GradientTape() as tape:
        _, (_, seen) = augment_pairs(sketches, [photos, fakes], list(AUGMENTATIONS))
        loss = tf.reduce_sum(seen)
    gradient = tape.gradient(loss, fakes)
    assert gradient is not None and float(tf.reduce_sum(tf.abs(gradient))) > 0


def test_an_unknown_augmentation_is_refused_with_the_choices() -> None:
    sketches, photos = _dots()
    with pytest.raises(ValueError, match=r"unknown augmentation\(s\) \['color'\]; choose from"):
        augment_pairs(sketches, [photos], ["color"])
