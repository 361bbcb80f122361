"""Resume bookkeeping of a pix2pix training run: Keras' ``BackupAndRestore`` keeps a backup in
``training.backup_dir``; this ties it to the settings and data that made it (a backup made
otherwise is set aside), and finds how many epochs it holds (falling back to the previous copy
when the run was killed while Keras wrote it)."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

import keras

from sketch_to_photo.datasets import ShardLoaders

logger = logging.getLogger(__name__)


BACKUP_SETTINGS_FILE = "settings.json"


def settings_hash(
    training: dict[str, Any], shards: ShardLoaders, resolved: dict[str, Any] | None = None
) -> str:
    """What a backup must match to be resumed: model/optimiser settings and the data.

    The data is each shard's name and version (the fingerprint it was computed from, else its
    file's size and modification time), so rewritten shards start a fresh training.
    ``resolved`` holds what ``auto`` settings became on this machine (the precision policy
    changes the optimizer's variables, so a backup made under another one cannot be loaded).
    """
    relevant = {
        k: v
        for k, v in training.items()
        if k not in {"epochs", "sample_grid_every", "checkpoint_every", "backup_every"}
    }
    payload = json.dumps(
        {
            "training": relevant,
            "shards": {name: load().version for name, load in shards.items()},
            "resolved": resolved or {},
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class EpochBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore`` (double checkpoint, deleted when the fit completes) that
    writes its backup every ``every_n_epochs`` epochs instead of every one: a backup costs
    about half a second even for a tiny model, which outweighs epochs of a few steps."""

    def __init__(self, backup_dir: Path, every_n_epochs: int) -> None:
        super().__init__(str(backup_dir), delete_checkpoint=True, double_checkpoint=True)
        self.every_n_epochs = every_n_epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every_n_epochs == 0:
            super().on_epoch_end(epoch, logs)


def _read_epoch(metadata: Path) -> int | None:
    try:
        return int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def prepare_backup(backup_dir: Path, settings_hash: str) -> int:
    """Keep a backup made with the same settings; set aside any other.

    Returns the number of epochs the backup holds (0 without one). A run killed while Keras
    wrote the backup falls back to the previous copy (``double_checkpoint``).
    """
    settings_file = backup_dir / BACKUP_SETTINGS_FILE
    if backup_dir.exists():
        recorded = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
        if recorded.get("settings_hash") != settings_hash:
            stale = backup_dir.with_name(f"{backup_dir.name}.stale-{int(time.time())}")
            logger.warning(
                "Training backup in %s was made with other settings; moved to %s, starting afresh",
                backup_dir,
                stale,
            )
            shutil.move(backup_dir, stale)
    backup_dir.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps({"settings_hash": settings_hash}))
    metadata = backup_dir / "training_metadata.json"
    if not metadata.exists():
        return 0
    epochs = _read_epoch(metadata)
    if epochs is None:
        previous = metadata.with_name(metadata.name + ".bkp")
        previous_weights = backup_dir / "latest.weights.h5.bkp"
        epochs = _read_epoch(previous) if previous_weights.is_file() else None
        if epochs is None:
            logger.warning("Training backup in %s is unreadable; starting afresh", backup_dir)
            for file in backup_dir.iterdir():
                if file.name != BACKUP_SETTINGS_FILE:
                    file.unlink()
            return 0
        shutil.copy(previous, metadata)
        shutil.copy(previous_weights, backup_dir / "latest.weights.h5")
    logger.info(
        "Resuming training from epoch %d (%d completed, backup in %s)",
        epochs + 1,
        epochs,
        backup_dir,
    )
    return epochs
