"""tf.data input pipelines that stream (sketch, photo) pairs from the npz shards.

The shards are the loaders of the ``pair_shards`` dataset (:class:`~sketch_to_photo.datasets.
ShardLoaders`). Only one shard's arrays are in memory at a time: shards are read one after
another through their loaders (inside ``tf.data``, which only passes the shard's index) and
converted with :func:`sketch_to_photo.prediction.preprocessing.prepare_pair_arrays` (the same
preprocessing the demo uses) in small chunks, so float32 copies of a whole shard never exist.
Training mode shuffles the shard order and the pairs within each shard every epoch, mixes pairs
across shard boundaries with a shuffle buffer, and applies pix2pix's random jitter and mirroring
to the sketch and photo together (and, when asked, a brightness and contrast jitter to the
photo's object, and the real pairs' sketch and object put on the same box: see
:func:`pair_dataset`). Every random choice is seeded, so a run is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

from sketch_to_photo.data.edges import WHITE_LEVEL
from sketch_to_photo.data.framing import align_pairs
from sketch_to_photo.data.pairs import first_of_each_photo
from sketch_to_photo.datasets import LazyNpz, ShardLoaders
from sketch_to_photo.prediction.preprocessing import prepare_images, prepare_pair_arrays

JITTER_RATIO = 286 / 256  # pix2pix: upscale 256 -> 286, then random-crop back to 256
CHUNK_PAIRS = 32  # pairs converted to float32 at once inside a shard
WHITE = WHITE_LEVEL / 127.5 - 1.0  # the cut-outs' white background, in the model's [-1, 1]


def pair_dataset(
    shards: ShardLoaders,
    *,
    image_size: int,
    batch_size: int,
    training: bool,
    jitter: bool = True,
    flip: bool = True,
    shuffle_buffer: int = 256,
    seed: int = 0,
    with_labels: bool = False,
    drop_remainder: bool = False,
    num_classes: int = 0,
    pair_alignment: str = "none",
    photo_colour: tuple[float, float] = (0.0, 0.0),
) -> tf.data.Dataset:
    """Batches of ``(sketches, photos)`` float32 in [-1, 1], shape (B, S, S, 3), from the
    ``shards`` (name -> loader, read in this order).

    ``pair_alignment`` (``photo_to_sketch`` or ``sketch_to_photo``) puts each photo's cut-out
    object and its sketch's strokes on the same box (:func:`~sketch_to_photo.data.framing.
    align_pairs`, from the shards' masks) before anything else. ``photo_colour``
    ``(brightness, contrast)``, in training mode, changes each photo's object (not its white
    background) by a random brightness within ``+-brightness`` (on [-1, 1]) and a contrast
    factor within ``1 +- contrast`` (SketchyGAN's photo jitter); ``(0, 0)``: none.

    With ``with_labels`` the batches are ``(sketches, labels)`` with int32 category labels (the
    photos are not read). With ``num_classes > 0`` (a class-aware generator's input) they are
    ``((sketches, categories), photos)``, the categories one-hot float32 ``(B, num_classes)``. ``training=False`` keeps the shards' order and applies no shuffling or
    augmentation. The dataset is finite with a known cardinality and can be iterated again for
    every epoch of ``model.fit``.
    """
    if not shards:
        raise ValueError("no shards given: run the data_processing pipeline first")
    if batch_size <= 0 or image_size <= 0:
        raise ValueError(
            f"batch_size and image_size must be positive, got {batch_size}, {image_size}"
        )
    if with_labels and num_classes:
        raise ValueError("with_labels and num_classes are exclusive")
    pairs = _examples(
        shards,
        image_size=image_size,
        training=training,
        jitter=jitter,
        flip=flip,
        shuffle_buffer=shuffle_buffer,
        seed=seed,
        with_labels=with_labels,
        labels=num_classes > 0,
        pair_alignment=pair_alignment,
        photo_colour=photo_colour,
    )
    return _batched(pairs, num_classes, batch_size, drop_remainder)


def mixed_pair_dataset(
    real_shards: ShardLoaders,
    edge_map_shards: ShardLoaders,
    real_share: tf.Variable,
    *,
    image_size: int,
    batch_size: int,
    jitter: bool = True,
    flip: bool = True,
    shuffle_buffer: int = 256,
    seed: int = 0,
    drop_remainder: bool = False,
    num_classes: int = 0,
    real_l1_weight: float = 1.0,
    pair_alignment: str = "none",
    photo_colour: tuple[float, float] = (0.0, 0.0),
) -> tf.data.Dataset:
    """Training batches that mix real sketch pairs with aligned edge-map pairs.

    Each pair is drawn from the real stream with probability ``real_share`` (a variable read
    while the data is produced: a callback moves it between epochs) and from the edge maps
    otherwise; both streams are shuffled and augmented like :func:`pair_dataset`'s and repeat
    as needed. An epoch is as many pairs as the real shards hold, so ``epochs`` means what it
    means without edge maps. Batches have :func:`pair_dataset`'s structure, plus a third
    element when ``real_l1_weight`` is not 1: float32 ``(B,)`` weights of each pair's L1 term
    (``real_l1_weight`` for a real sketch, 1 for an edge map), Keras' ``sample_weight`` slot.
    ``pair_alignment`` applies to the real pairs only (an edge map is drawn from its photo),
    ``photo_colour`` to both.
    """
    if not real_shards or not edge_map_shards:
        raise ValueError(
            "mixing needs real and edge-map shards: run `kedro run --pipelines data_processing`"
        )
    streams = [
        _examples(
            shards,
            image_size=image_size,
            training=True,
            jitter=jitter,
            flip=flip,
            shuffle_buffer=shuffle_buffer,
            seed=stream_seed,
            labels=num_classes > 0,
            pair_alignment=alignment,
            photo_colour=photo_colour,
        ).repeat()
        for shards, stream_seed, alignment in (
            (real_shards, seed, pair_alignment),
            (edge_map_shards, seed + 10, "none"),
        )
    ]
    if real_l1_weight != 1.0:
        streams = [
            stream.map(lambda *example, weight=weight: (*example, tf.constant(weight, tf.float32)))
            for stream, weight in zip(streams, (real_l1_weight, 1.0), strict=True)
        ]
    # One uniform draw per pair: 0 (real) below the share, else 1 (edge map).
    choices = tf.data.Dataset.random(seed=seed + 20, rerandomize_each_iteration=True).map(
        lambda draw: tf.cast(
            tf.cast(draw % 1_000_003, tf.float32) / 1_000_003.0 >= real_share, tf.int64
        )
    )
    pairs = tf.data.Dataset.choose_from_datasets(streams, choices).take(count_pairs(real_shards))
    return _batched(pairs, num_classes, batch_size, drop_remainder)


def _examples(
    shards: ShardLoaders,
    *,
    image_size: int,
    training: bool,
    jitter: bool,
    flip: bool,
    shuffle_buffer: int,
    seed: int,
    with_labels: bool = False,
    labels: bool = False,
    pair_alignment: str = "none",
    photo_colour: tuple[float, float] = (0.0, 0.0),
) -> tf.data.Dataset:
    """Single examples ``(sketch, second[, label])`` of the shards, shuffled and augmented in
    training mode; ``second`` is the photo, or the label with ``with_labels``."""
    loaders = list(shards.values())
    n_pairs = count_pairs(shards)
    second_key = "labels" if with_labels else "photos"
    image_spec = tf.TensorSpec((None, image_size, image_size, 3), tf.float32)
    label_spec = tf.TensorSpec((None,), tf.int32)
    signature = (image_spec, label_spec if with_labels else image_spec)
    if labels:
        signature = (*signature, label_spec)
    reader = _ShardReader(
        loaders,
        image_size=image_size,
        second_key=second_key,
        shuffle=training,
        labels=labels,
        pair_alignment="none" if with_labels else pair_alignment,
    )

    # Shard indices, not files: the reader loads each shard through its loader in Python.
    indices = tf.data.Dataset.range(len(loaders))
    if training:
        indices = indices.shuffle(len(loaders), seed=seed, reshuffle_each_iteration=True)
        # One fresh seed per shard and epoch for the order of the pairs inside it.
        shard_seeds = tf.data.Dataset.random(seed=seed + 1, rerandomize_each_iteration=True)
        indices = tf.data.Dataset.zip(indices, shard_seeds)
    else:
        indices = indices.map(lambda index: (index, tf.constant(0, tf.int64)))
    pairs = indices.flat_map(
        lambda index, shard_seed: tf.data.Dataset.from_generator(
            reader, args=(index, shard_seed), output_signature=signature
        )
    ).unbatch()
    pairs = pairs.apply(tf.data.experimental.assert_cardinality(n_pairs))

    if training:
        if shuffle_buffer > 1:
            pairs = pairs.shuffle(shuffle_buffer, seed=seed + 2, reshuffle_each_iteration=True)
        recolour = not with_labels and any(photo_colour)
        if jitter or flip or recolour:
            augment_seeds = tf.data.Dataset.random(seed=seed + 3, rerandomize_each_iteration=True)
            augment = _make_augment(
                image_size,
                jitter=jitter,
                flip=flip,
                with_labels=with_labels,
                photo_colour=photo_colour if recolour else None,
            )
            pairs = tf.data.Dataset.zip(pairs, augment_seeds).map(
                augment, num_parallel_calls=tf.data.AUTOTUNE
            )
    return pairs


def _batched(
    pairs: tf.data.Dataset, num_classes: int, batch_size: int, drop_remainder: bool
) -> tf.data.Dataset:
    if num_classes:  # after the label may come the pair's L1 weight
        pairs = pairs.map(
            lambda sketch, photo, label, *weight: (
                (sketch, tf.one_hot(label, num_classes)),
                photo,
                *weight,
            )
        )
    return pairs.batch(batch_size, drop_remainder=drop_remainder).prefetch(tf.data.AUTOTUNE)


def count_pairs(shards: ShardLoaders) -> int:
    """Total number of pairs in the shards, from the ``sketch_ids`` array headers only."""
    return sum(load().length("sketch_ids") for load in shards.values())


def training_steps_per_epoch(n_pairs: int, batch_size: int, *, drop_remainder: bool = False) -> int:
    """Batches in one pass over ``n_pairs`` pairs (the last one partial unless dropped)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    return n_pairs // batch_size if drop_remainder else math.ceil(n_pairs / batch_size)


class _ShardReader:
    """Generator factory for ``from_generator``: yields one shard, by index into ``loaders``,
    as float32 chunks."""

    def __init__(
        self,
        loaders: list[Callable[[], LazyNpz]],
        *,
        image_size: int,
        second_key: str,
        shuffle: bool,
        labels: bool = False,
        pair_alignment: str = "none",
    ) -> None:
        self.loaders = loaders
        self.image_size = image_size
        self.second_key = second_key
        self.shuffle = shuffle
        self.labels = labels  # also yield the labels after the pair
        self.pair_alignment = pair_alignment

    def __call__(self, index: np.int64, shard_seed: np.int64) -> Iterator[tuple[np.ndarray, ...]]:
        shard = self.loaders[int(index)]()
        sketches = shard["sketches"]
        second = shard[self.second_key]
        labels = shard["labels"] if self.labels else None
        order = np.arange(len(sketches))
        if self.shuffle:
            order = np.random.default_rng(int(shard_seed) & 0x7FFF_FFFF_FFFF_FFFF).permutation(
                len(sketches)
            )
        for start in range(0, len(order), CHUNK_PAIRS):
            index = order[start : start + CHUNK_PAIRS]
            if self.second_key == "labels":
                yield (
                    prepare_images(sketches[index], self.image_size),
                    second[index].astype(np.int32),
                )
                continue
            chunk_sketches, photos = sketches[index], second[index]
            if self.pair_alignment != "none":
                chunk_sketches, photos = align_pairs(
                    chunk_sketches,
                    photos,
                    shard["masks"][index],
                    shard["segmentation_fallback"][index],
                    mode=self.pair_alignment,
                )
            pair = prepare_pair_arrays(chunk_sketches, photos, self.image_size)
            yield pair if labels is None else (*pair, labels[index].astype(np.int32))


def recolour_object(photo: tf.Tensor, brightness: tf.Tensor, contrast: tf.Tensor) -> tf.Tensor:
    """``photo`` (S, S, 3) in [-1, 1] with its object's contrast scaled by ``contrast`` about the
    object's mean and ``brightness`` added; the white background stays white."""
    is_object = tf.reduce_any(photo < WHITE, axis=-1, keepdims=True)
    weight = tf.cast(is_object, photo.dtype)
    mean = tf.reduce_sum(photo * weight) / tf.maximum(3.0 * tf.reduce_sum(weight), 1.0)
    changed = tf.clip_by_value((photo - mean) * contrast + mean + brightness, -1.0, 1.0)
    return tf.where(is_object, changed, photo)


def _make_augment(
    image_size: int,
    *,
    jitter: bool,
    flip: bool,
    with_labels: bool,
    photo_colour: tuple[float, float] | None = None,
) -> Callable[..., tuple[tf.Tensor, tf.Tensor]]:
    """A map function ``((sketch, second), seed) -> (sketch', second')``.

    The images of one example are stacked, so the sketch and the photo get exactly the same
    crop window and mirroring. ``photo_colour`` ``(brightness, contrast)`` then recolours the
    photo's object (:func:`recolour_object`).
    """
    jitter_size = round(image_size * JITTER_RATIO)

    def augment_stack(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        if jitter:
            images = tf.image.resize(images, [jitter_size, jitter_size], method="bilinear")
            images = tf.image.stateless_random_crop(
                images,
                size=tf.stack([tf.shape(images)[0], image_size, image_size, 3]),
                seed=tf.stack([seed, 0]),
            )
        if flip:
            # stateless_random_flip_left_right would draw per image; one draw for the stack.
            mirrored = tf.random.stateless_uniform([], seed=tf.stack([seed, 1])) < 0.5
            images = tf.cond(mirrored, lambda: tf.reverse(images, axis=[2]), lambda: images)
        return images

    def augment(example: tuple[tf.Tensor, ...], seed: tf.Tensor) -> tuple[tf.Tensor, ...]:
        sketch, second, *rest = example  # rest: the label of a class-aware pair
        if with_labels:
            return augment_stack(sketch[None], seed)[0], second
        stacked = augment_stack(tf.stack([sketch, second]), seed)
        photo = stacked[1]
        if photo_colour is not None:
            brightness, contrast = photo_colour
            draws = tf.random.stateless_uniform([2], seed=tf.stack([seed, 2]), minval=-1.0)
            photo = recolour_object(photo, brightness * draws[0], 1.0 + contrast * draws[1])
        return stacked[0], photo, *rest

    return augment


def unique_photos(
    shards: ShardLoaders, *, image_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct photos of the shards, one per photo (not one copy per sketch).

    Returns ``(photos, labels, photo_ids)``: float32 ``(N, S, S, 3)`` in [-1, 1] through the
    same preprocessing as training
    (:func:`~sketch_to_photo.prediction.preprocessing.prepare_images`), int64 category labels and
    the photo ids, in shard order. A photo id seen in several shards is kept once (its first
    occurrence).
    """
    seen: set[str] = set()
    photos: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    ids: list[str] = []
    for load in shards.values():
        shard = load()
        shard_ids = shard["photo_ids"]
        first = np.flatnonzero(first_of_each_photo(shard_ids, seen=seen))
        if not len(first):
            continue
        photos.append(prepare_images(shard["photos"][first], image_size))
        labels.append(shard["labels"][first].astype(np.int64))
        ids.extend(shard_ids[first].tolist())
    if not photos:
        return (
            np.zeros((0, image_size, image_size, 3), np.float32),
            np.zeros((0,), np.int64),
            np.zeros((0,), str),
        )
    return np.concatenate(photos), np.concatenate(labels), np.asarray(ids)
