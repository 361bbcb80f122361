"""The resume bookkeeping of the training node (the full kill-and-resume is in test_training_run)."""

from __future__ import annotations

import json

from sketch_to_photo.pipelines.training.nodes import (
    BACKUP_SETTINGS_FILE,
    _prepare_backup,
    _settings_hash,
)

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
    assert _prepare_backup(tmp_path / "backup", "abc") == 0
    assert json.loads((tmp_path / "backup" / BACKUP_SETTINGS_FILE).read_text()) == {
        "settings_hash": "abc"
    }


def test_backup_with_the_same_settings_resumes(tmp_path):
    _write_backup(tmp_path / "backup", 3)
    assert _prepare_backup(tmp_path / "backup", "abc") == 3


def test_backup_made_with_other_settings_is_set_aside(tmp_path):
    _write_backup(tmp_path / "backup", 3, settings_hash="other")
    assert _prepare_backup(tmp_path / "backup", "abc") == 0
    stale = [p for p in tmp_path.iterdir() if p.name.startswith("backup.stale-")]
    assert len(stale) == 1 and (stale[0] / "latest.weights.h5").is_file()  # nothing lost


def test_half_written_metadata_falls_back_to_the_previous_copy(tmp_path):
    _write_backup(tmp_path / "backup", 4, corrupt=True, with_previous=True)
    assert _prepare_backup(tmp_path / "backup", "abc") == 3
    assert (tmp_path / "backup" / "latest.weights.h5").read_bytes() == b"previous weights"


def test_unreadable_backup_without_a_previous_copy_starts_afresh(tmp_path):
    _write_backup(tmp_path / "backup", 4, corrupt=True)
    assert _prepare_backup(tmp_path / "backup", "abc") == 0
    assert not (tmp_path / "backup" / "latest.weights.h5").exists()


def test_settings_hash_ignores_epochs_but_not_the_model(tmp_path):
    shards = [tmp_path / "train" / "teapot-00000.npz"]
    base = _settings_hash(SETTINGS, shards)
    assert _settings_hash({**SETTINGS, "epochs": 50}, shards) == base  # more epochs may resume
    assert _settings_hash({**SETTINGS, "base_filters": 8}, shards) != base
    assert _settings_hash(SETTINGS, [*shards, tmp_path / "train" / "cat-00000.npz"]) != base
