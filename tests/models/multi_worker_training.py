"""Run as a script by test_distribute.py, once per worker, with TF_CONFIG set: the training
node under ``multi_worker`` (MultiWorkerMirroredStrategy). Prints one JSON line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sketch_to_photo.benchmark.streaming import write_synthetic_shards
from sketch_to_photo.datasets import LazyNpz
from sketch_to_photo.pipelines.training.nodes import train_generator

if __name__ == "__main__":
    index, work = sys.argv[1], Path(sys.argv[2])
    mine = work / f"worker{index}"  # each worker its own copy of the same shards
    paths, _ = write_synthetic_shards(mine / "train", 32, 32, 8, seed=5)
    validation, _ = write_synthetic_shards(mine / "validation", 8, 32, 8, seed=6)
    shards = {f"train/{p.stem}": (lambda p=p: LazyNpz(p)) for p in paths}
    shards["validation/v-00000"] = lambda: LazyNpz(validation[0])
    training = {
        "image_size": 32, "base_filters": 4, "normalization": "batch", "dropout": 0.5,
        "batch_size": 8, "strategy": "multi_worker", "precision": "float32", "jit_compile": "auto",
        "class_aware": False,
        "epochs": 3, "learning_rate": 2e-3, "beta_1": 0.5, "l1_weight": 100.0,
        "perceptual": {"weight": 0.0, "layers": ["block1_conv2"], "vgg_weights": "none"},
        "jitter": False, "flip": True, "shuffle_buffer": 16, "seed": 3,
        "sample_grid_every": 100, "checkpoint_every": 0,
        "sample_dir": str(mine / "samples"), "checkpoint_dir": str(mine / "checkpoints"),
        "backup_dir": str(work / "backup"),  # shared: the node gives non-chiefs their own
    }  # fmt: skip
    generator, summary = train_generator(shards, {"categories": ["a", "b"]}, training)
    result = {
        "strategy": summary["strategy"], "g_l1": summary["history"]["g_l1"],
        "kernel": generator.get_layer("down1_conv").get_weights()[0].ravel()[:8].tolist(),
    }  # fmt: skip
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
