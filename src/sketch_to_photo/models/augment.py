"""Differentiable augmentation of the discriminator's inputs (DiffAugment: Zhao et al., 2020).

With a few hundred photos the discriminator can learn the training photos themselves rather
than what makes a photo; DiffAugment shows it every pair, real and generated alike, through
random colour changes, shifts and cut-outs. The operations are differentiable, so the
generator's gradient flows through them, and the generator itself never sees them: its
outputs are not augmented.

For the conditional discriminator a pair is the sketch and its photo: shifts and cut-outs move
and hide both alike (the sketch stays where its photo is), colour changes only the photo. The
real and the generated pair of the same sketch get the same draws, so that they stay comparable
(feature matching compares the discriminator's activations on the two).

Images are float32 in [-1, 1]; the shift fills with white (1), the frame's background.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

AUGMENTATIONS = ("colour", "translation", "cutout")
TRANSLATION_FRACTION = 0.125  # DiffAugment's: shifts of up to 1/8 of the frame
CUTOUT_FRACTION = 0.5  # DiffAugment's: a square half the frame's side


def _per_image(draws: tf.Tensor) -> tf.Tensor:
    return tf.reshape(draws, [-1, 1, 1, 1])


def _colour(photos: tf.Tensor, draws: tf.Tensor) -> tf.Tensor:
    """DiffAugment's brightness (+-0.5), saturation (x0-2) and contrast (x0.5-1.5), per image;
    ``draws`` holds three uniform [0, 1) numbers per image, shape (3, batch)."""
    photos = photos + _per_image(draws[0] - 0.5)
    grey = tf.reduce_mean(photos, axis=3, keepdims=True)
    photos = grey + (photos - grey) * _per_image(draws[1] * 2.0)
    mean = tf.reduce_mean(photos, axis=[1, 2, 3], keepdims=True)
    return mean + (photos - mean) * _per_image(draws[2] + 0.5)


def _translation(images: tf.Tensor, batch: tf.Tensor) -> tf.Tensor:
    """Each image shifted by up to 1/8 of its side in each direction, filled with white."""
    size = images.shape[1]
    pad = max(1, int(size * TRANSLATION_FRACTION))
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]], constant_values=1.0)
    offsets = tf.random.uniform([2, batch], 0, 2 * pad + 1, dtype=tf.int32)
    rows = offsets[0][:, None] + tf.range(size)[None, :]
    columns = offsets[1][:, None] + tf.range(size)[None, :]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)


def _cutout(images: tf.Tensor, batch: tf.Tensor) -> tf.Tensor:
    """A square half the side, centred anywhere in the frame, set to 0 (grey) in every channel."""
    size = images.shape[1]
    half = int(size * CUTOUT_FRACTION) // 2
    starts = tf.random.uniform([2, batch, 1], -half, size - half, dtype=tf.int32)
    positions = tf.range(size)[None, :]
    inside_rows = (positions >= starts[0]) & (positions < starts[0] + 2 * half)  # (batch, size)
    inside_columns = (positions >= starts[1]) & (positions < starts[1] + 2 * half)
    hole = tf.logical_and(inside_rows[:, :, None], inside_columns[:, None, :])
    return images * (1.0 - tf.cast(hole, images.dtype)[..., None])


def augment_pairs(
    sketches: tf.Tensor, photo_sets: Sequence[tf.Tensor], augmentations: Sequence[str]
) -> tuple[tf.Tensor, list[tf.Tensor]]:
    """The sketches and each set of photos (the real and the generated ones) augmented with
    the same random draws; ``augmentations`` from :data:`AUGMENTATIONS`, applied in that order.
    """
    unknown = sorted(set(augmentations) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(f"unknown augmentation(s) {unknown}; choose from {list(AUGMENTATIONS)}")
    sketches = tf.cast(sketches, "float32")
    photo_sets = [tf.cast(photos, "float32") for photos in photo_sets]
    channels = sketches.shape[-1]
    batch = tf.shape(sketches)[0]
    if "colour" in augmentations:
        draws = tf.random.uniform([3, batch])
        photo_sets = [_colour(photos, draws) for photos in photo_sets]
    # one tensor with the sketch and every photo set along the channels: one draw moves all
    stacked = tf.concat([sketches, *photo_sets], axis=-1)
    if "translation" in augmentations:
        stacked = _translation(stacked, batch)
    if "cutout" in augmentations:
        stacked = _cutout(stacked, batch)
    sketches, *photo_sets = tf.split(stacked, [channels] * (1 + len(photo_sets)), axis=-1)
    return sketches, photo_sets
