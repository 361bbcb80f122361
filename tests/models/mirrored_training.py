"""Run as a script by test_distribute.py: mirrored training on two logical CPU devices.

Logical devices must be configured before TensorFlow initialises, which a pytest process may
already have done; a fresh process avoids depending on test order. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from node_training_params import training_params  # a sibling: this file runs as a script

from sketch_to_photo.models.distribute import split_cpu

split_cpu(2)  # first: before anything creates a tensor

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from sketch_to_photo.datasets import NpzShardsDataset  # noqa: E402
from sketch_to_photo.models import Pix2Pix, build_discriminator, build_generator  # noqa: E402
from sketch_to_photo.models.distribute import make_strategy  # noqa: E402
from sketch_to_photo.pipelines.training.nodes import train_generator  # noqa: E402
from sketch_to_photo.tools.benchmark.streaming import write_synthetic_shards  # noqa: E402

SIZE, WIDTH = 32, 4


def one_sgd_step(
    strategy: tf.distribute.Strategy, batch: tuple[np.ndarray, np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights before and after one SGD step; SGD (unlike Adam) shows a wrongly scaled gradient."""
    keras.utils.set_random_seed(1)
    with strategy.scope():
        # Instance norm and no dropout: each example's loss does not depend on its batch-mates.
        model = Pix2Pix(
            build_generator(SIZE, WIDTH, dropout=0.0, normalization="instance"),
            build_discriminator(SIZE, WIDTH, normalization="instance"),
        )
        model.compile(g_optimizer=keras.optimizers.SGD(0.5), d_optimizer=keras.optimizers.SGD(0.5))
    weights = model.generator.weights + model.discriminator.weights
    before = [w.numpy() for w in weights]
    model.fit(tf.data.Dataset.from_tensors(batch), epochs=1, verbose=0)
    return before, [w.numpy() for w in weights]


def train_node(shards: dict, strategy: str, folder: Path) -> dict:
    training = training_params(
        size=SIZE, width=WIDTH, strategy=strategy, folder=folder, backup_dir=folder / "backup",
        epochs=4, perceptual_weight=1.0,
    )  # fmt: skip
    generator, summary = train_generator(shards, {}, {"categories": ["a", "b"]}, training)
    sketches = np.zeros((3, SIZE, SIZE, 3), np.float32)
    return {
        "replicas": summary["strategy"]["replicas"],
        "devices": summary["strategy"]["devices"],
        "g_l1": summary["history"]["g_l1"],
        "val_l1": summary["history"]["val_l1"],
        "weight_shapes": [list(w.shape) for w in generator.weights],
        "output_shape": list(generator.predict(sketches, verbose=0).shape),
    }


def main(workdir: Path) -> None:
    write_synthetic_shards(workdir / "pairs", 32, SIZE, 8, seed=5)
    write_synthetic_shards(workdir / "validation_pairs", 9, SIZE, 9, seed=6)
    shards = dict(NpzShardsDataset(path=str(workdir / "pairs")).load())
    validation = NpzShardsDataset(path=str(workdir / "validation_pairs")).load()
    shards["validation/bench_a-00000"] = validation["train/bench_a-00000"]

    rng = np.random.default_rng(0)
    batch = (
        rng.uniform(-1, 1, (4, SIZE, SIZE, 3)).astype(np.float32),
        rng.uniform(-1, 1, (4, SIZE, SIZE, 3)).astype(np.float32),
    )
    start, single = one_sgd_step(make_strategy("auto").strategy, batch)
    mirrored_start, mirrored = one_sgd_step(make_strategy("mirrored").strategy, batch)
    result = {
        "max_start_difference": max(
            float(np.abs(a - b).max()) for a, b in zip(start, mirrored_start, strict=True)
        ),
        "max_update": max(float(np.abs(a - b).max()) for a, b in zip(start, single, strict=True)),
        "max_weight_difference": max(
            float(np.abs(a - b).max()) for a, b in zip(single, mirrored, strict=True)
        ),
        "weights_compared": len(single),
        # The whole training node under mirrored; a single-device node run would only repeat
        # the step above, so its shapes come from the same generator built without a strategy.
        "single_weight_shapes": [list(w.shape) for w in build_generator(SIZE, WIDTH).weights],
        "mirrored": train_node(shards, "mirrored", workdir / "mirrored"),
    }
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
