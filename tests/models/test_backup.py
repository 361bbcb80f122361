"""The resume bookkeeping of pix2pix training (the full kill-and-resume is in
test_training_run and tests/test_fault_injection.py)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from sketch_to_photo.datasets import NpzShardsDataset, ResumableShard, ShardLoaders
from sketch_to_photo.models.backup import (
    BACKUP_SETTINGS_FILE,
    EpochBackupAndRestore,
    prepare_backup,
    settings_hash,
)
from tests.models.test_pix2pix import InterruptAt

SETTINGS = {"image_size": 32, "base_filters": 4, "epochs": 5}


def _write_backup(folder, epoch, settings_hash="abc", corrupt=False, with_previous=False):
    folder.mkdir(parents=True)
    (folder / BACKUP_SETTINGS_FILE).write_text(json.dumps({"settings_hash": settings_hash}))
    (folder / "latest.weights.h5").write_bytes(b"weights")
    (folder / "training_metadata.json").write_text(
        '{"epo' if corrupt else json.dumps({"epoch": epoch, "batch": 0})
    )
    if with_previous:
        (folder / "latest.weights.h5.bkp").write_bytes(b"previous weights")
        (folder / "training_metadata.json.bkp").write_text(
            json.dumps({"epoch": epoch - 1, "batch": 0})
        )


def test_no_backup_starts_at_epoch_zero(tmp_path):
    assert prepare_backup(tmp_path / "backup", "abc") == 0
    assert json.loads((tmp_path / "backup" / BACKUP_SETTINGS_FILE).read_text()) == {
        "settings_hash": "abc"
    }


def test_backup_with_the_same_settings_resumes(tmp_path):
    _write_backup(tmp_path / "backup", 3)
    assert prepare_backup(tmp_path / "backup", "abc") == 3


def test_backup_made_with_other_settings_is_set_aside(tmp_path):
    _write_backup(tmp_path / "backup", 3, settings_hash="other")
    assert prepare_backup(tmp_path / "backup", "abc") == 0
    stale = [p for p in tmp_path.iterdir() if p.name.startswith("backup.stale-")]
    assert len(stale) == 1 and (stale[0] / "latest.weights.h5").is_file()  # nothing lost


def test_half_written_metadata_falls_back_to_the_previous_copy(tmp_path):
    _write_backup(tmp_path / "backup", 4, corrupt=True, with_previous=True)
    assert prepare_backup(tmp_path / "backup", "abc") == 3
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == b"previous weights"


def test_unreadable_backup_without_a_previous_copy_starts_afresh(tmp_path):
    _write_backup(tmp_path / "backup", 4, corrupt=True)
    assert prepare_backup(tmp_path / "backup", "abc") == 0
    assert not (tmp_path / "backup" / "latest.weights.h5").exists()


def _shards(folder, **arrays_by_name) -> ShardLoaders:
    """Pair shards as the catalog loads them (only their names and versions matter here)."""
    NpzShardsDataset(path=str(folder)).save(arrays_by_name)
    return NpzShardsDataset(path=str(folder)).load()


def _ids(n: int) -> dict[str, np.ndarray]:
    return {"sketch_ids": np.array([f"n0_{i}-1" for i in range(n)])}


def test_settings_hash_ignores_epochs_but_not_the_model(tmp_path):
    shards = _shards(tmp_path / "pairs", **{"train/teapot-00000": _ids(2)})
    base = settings_hash(SETTINGS, shards)
    assert settings_hash({**SETTINGS, "epochs": 50}, shards) == base  # more epochs may resume
    assert settings_hash({**SETTINGS, "backup_every": 5}, shards) == base
    assert settings_hash({**SETTINGS, "base_filters": 8}, shards) != base
    more = _shards(tmp_path / "more", **{"train/teapot-00000": _ids(2), "train/cat-00000": _ids(1)})
    assert settings_hash(SETTINGS, {**shards, "train/cat-00000": more["train/cat-00000"]}) != base


def test_settings_hash_follows_the_shards_content(tmp_path):
    folder = tmp_path / "pairs"
    shards = _shards(folder, **{"train/teapot-00000": _ids(2)})
    base = settings_hash(SETTINGS, shards)
    assert settings_hash(SETTINGS, NpzShardsDataset(path=str(folder)).load()) == base
    rewritten = _shards(folder, **{"train/teapot-00000": _ids(3)})
    assert settings_hash(SETTINGS, rewritten) != base
    # Shards saved with fingerprints (the pipeline's): the fingerprint is what counts.
    resumable = _shards(folder, **{"train/teapot-00000": ResumableShard("fp1", lambda: _ids(2))})
    fingerprinted = settings_hash(SETTINGS, resumable)
    again = _shards(folder, **{"train/teapot-00000": ResumableShard("fp1", lambda: _ids(2))})
    assert settings_hash(SETTINGS, again) == fingerprinted
    changed = _shards(folder, **{"train/teapot-00000": ResumableShard("fp2", lambda: _ids(2))})
    assert settings_hash(SETTINGS, changed) != fingerprinted


def test_settings_hash_covers_strategy_precision_and_what_auto_became(tmp_path):
    shards = _shards(tmp_path / "pairs", **{"train/teapot-00000": _ids(2)})
    base = settings_hash({**SETTINGS, "precision": "auto"}, shards, {"precision": "float32"})
    for key, value in (("strategy", "mirrored"), ("precision", "float32"), ("jit_compile", True)):
        assert settings_hash({**SETTINGS, "precision": "auto", key: value}, shards) != base
    # The same "auto" resolved to another policy on another machine: not resumable.
    other_machine = settings_hash(
        {**SETTINGS, "precision": "auto"}, shards, {"precision": "mixed_bfloat16"}
    )
    assert other_machine != base


class EpochsSeen(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[int] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs.append(epoch)


def _dense_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_backup_every_n_epochs_resumes_from_the_last_one_written(tmp_path):
    x, y = np.ones((8, 3), np.float32), np.zeros((8, 1), np.float32)
    backup_dir = tmp_path / "backup"
    interrupted = _dense_model()
    with pytest.raises(RuntimeError, match="simulated interruption"):
        interrupted.fit(
            x, y, epochs=10, batch_size=4, verbose=0,
            callbacks=[EpochBackupAndRestore(backup_dir, every_n_epochs=3), InterruptAt(5)],
        )  # fmt: skip
    # five epochs done, the backup written after the third only
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    assert metadata["epoch"] == 3
    assert not (backup_dir / "training_metadata.json.bkp").exists()  # written once, not five times

    seen = EpochsSeen()
    _dense_model().fit(
        x, y, epochs=10, batch_size=4, verbose=0,
        callbacks=[EpochBackupAndRestore(backup_dir, every_n_epochs=3), seen],
    )  # fmt: skip
    assert seen.epochs == list(range(3, 10))
    assert not backup_dir.exists()  # a completed fit deletes its backup
