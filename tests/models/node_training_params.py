"""The training node's parameters at test sizes, shared by the scripts that test_distribute.py
runs (imported as a sibling module: the scripts run as files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def training_params(
    *, size: int, width: int, strategy: str, folder: Path, backup_dir: Path, epochs: int,
    perceptual_weight: float, jitter: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return {
        "image_size": size, "base_filters": width, "normalization": "batch", "dropout": 0.5,
        "batch_size": 8, "strategy": strategy, "precision": "float32", "jit_compile": "auto",
        "class_aware": False, "spectral_norm": False, "epochs": epochs, "learning_rate": 2e-3,
        "beta_1": 0.5,
        "lr_schedule": "constant",
        "l1_weight": 100.0,
        "perceptual": {"weight": perceptual_weight, "layers": ["block1_conv2"], "vgg_weights": "none"},
        "edge_maps": {"enabled": False, "real_share_start": 0.2, "real_share_end": 0.8},
        "jitter": jitter, "flip": True, "shuffle_buffer": 16, "seed": 3,
        "sample_grid_every": 100, "checkpoint_every": 0,
        "sample_dir": str(folder / "samples"), "checkpoint_dir": str(folder / "checkpoints"),
        "backup_dir": str(backup_dir),
    }  # fmt: skip
