"""Run as a script by test_distribute.py, once per worker, with TF_CONFIG set: the training
node under ``multi_worker`` (MultiWorkerMirroredStrategy). Prints one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from node_training_params import training_params  # a sibling: this file runs as a script

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.pipelines.training.nodes import train_generator
from sketch_to_photo.tools.benchmark.streaming import write_synthetic_shards

if __name__ == "__main__":
    index, work = sys.argv[1], Path(sys.argv[2])
    mine = work / f"worker{index}"  # each worker its own copy of the same shards
    write_synthetic_shards(mine / "train", 32, 32, 8, seed=5)
    write_synthetic_shards(mine / "validation", 8, 32, 8, seed=6)
    shards = dict(NpzShardsDataset(path=str(mine / "train")).load())
    validation = NpzShardsDataset(path=str(mine / "validation")).load()
    shards["validation/v-00000"] = validation["train/bench_a-00000"]
    training = training_params(
        size=32, width=4, strategy="multi_worker", folder=mine, epochs=3, perceptual_weight=0.0,
        backup_dir=work / "backup",  # shared: the node gives non-chiefs their own
    )  # fmt: skip
    generator, summary = train_generator(shards, {}, {"categories": ["a", "b"]}, training)
    result = {
        "strategy": summary["strategy"], "g_l1": summary["history"]["g_l1"],
        "kernel": generator.get_layer("down1_conv").get_weights()[0].ravel()[:8].tolist(),
    }  # fmt: skip
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
