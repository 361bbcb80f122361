"""The resume bookkeeping of the training node (the full kill-and-resume is in test_training_run)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sketch_to_photo.datasets import NpzShardsDataset, ResumableShard, ShardLoaders
from sketch_to_photo.models.precision import has_gpu
from sketch_to_photo.pipelines.training.nodes import (
    BACKUP_SETTINGS_FILE,
    _prepare_backup,
    _settings_hash,
    _validation_batching,
    resolve_jit_compile,
    skip_symbolic_build,
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


def _shards(folder, **arrays_by_name) -> ShardLoaders:
    """Pair shards as the catalog loads them (only their names and versions matter here)."""
    NpzShardsDataset(path=str(folder)).save(arrays_by_name)
    return NpzShardsDataset(path=str(folder)).load()


def _ids(n: int) -> dict[str, np.ndarray]:
    return {"sketch_ids": np.array([f"n0_{i}-1" for i in range(n)])}


def test_settings_hash_ignores_epochs_but_not_the_model(tmp_path):
    shards = _shards(tmp_path / "pairs", **{"train/teapot-00000": _ids(2)})
    base = _settings_hash(SETTINGS, shards)
    assert _settings_hash({**SETTINGS, "epochs": 50}, shards) == base  # more epochs may resume
    assert _settings_hash({**SETTINGS, "base_filters": 8}, shards) != base
    more = _shards(tmp_path / "more", **{"train/teapot-00000": _ids(2), "train/cat-00000": _ids(1)})
    assert _settings_hash(SETTINGS, {**shards, "train/cat-00000": more["train/cat-00000"]}) != base


def test_settings_hash_follows_the_shards_content(tmp_path):
    folder = tmp_path / "pairs"
    shards = _shards(folder, **{"train/teapot-00000": _ids(2)})
    base = _settings_hash(SETTINGS, shards)
    assert _settings_hash(SETTINGS, NpzShardsDataset(path=str(folder)).load()) == base
    rewritten = _shards(folder, **{"train/teapot-00000": _ids(3)})
    assert _settings_hash(SETTINGS, rewritten) != base
    # Shards saved with fingerprints (the pipeline's): the fingerprint is what counts.
    resumable = _shards(folder, **{"train/teapot-00000": ResumableShard("fp1", lambda: _ids(2))})
    fingerprinted = _settings_hash(SETTINGS, resumable)
    again = _shards(folder, **{"train/teapot-00000": ResumableShard("fp1", lambda: _ids(2))})
    assert _settings_hash(SETTINGS, again) == fingerprinted
    changed = _shards(folder, **{"train/teapot-00000": ResumableShard("fp2", lambda: _ids(2))})
    assert _settings_hash(SETTINGS, changed) != fingerprinted


def test_settings_hash_covers_strategy_precision_and_what_auto_became(tmp_path):
    shards = _shards(tmp_path / "pairs", **{"train/teapot-00000": _ids(2)})
    base = _settings_hash({**SETTINGS, "precision": "auto"}, shards, {"precision": "float32"})
    for key, value in (("strategy", "mirrored"), ("precision", "float32"), ("jit_compile", True)):
        assert _settings_hash({**SETTINGS, "precision": "auto", key: value}, shards) != base
    # The same "auto" resolved to another policy on another machine: not resumable.
    other_machine = _settings_hash(
        {**SETTINGS, "precision": "auto"}, shards, {"precision": "mixed_bfloat16"}
    )
    assert other_machine != base


@pytest.mark.parametrize(
    ("n_pairs", "batch", "replicas", "expected"),
    [
        (39, 16, 1, (16, False)),  # one device: as configured, partial last batch allowed
        (40, 16, 2, (16, False)),  # 16, 16, 8: every replica gets pairs
        (33, 16, 2, (14, False)),  # 16 would leave 1 pair for 2 replicas; 14 leaves 5
        (9, 8, 2, (6, False)),  # a first batch of 7 would split 4 + 3
        (3, 8, 2, (2, True)),  # nothing splits 3 pairs evenly: drop one
        (5, 8, 4, (4, True)),
    ],
)
def test_validation_batching_splits_evenly_over_replicas(n_pairs, batch, replicas, expected):
    size, drop = _validation_batching(n_pairs, batch, replicas)
    assert (size, drop) == expected
    if replicas > 1:
        assert size % replicas == 0
        remainder = 0 if drop else n_pairs % size
        assert remainder == 0 or remainder >= replicas


def test_jit_compile_auto_is_off_without_a_gpu_and_rejects_typos():
    if has_gpu():
        pytest.skip("auto turns XLA on with a GPU")
    assert resolve_jit_compile("auto") is False
    assert resolve_jit_compile(True) is True
    with pytest.raises(ValueError, match="auto, true or false"):
        resolve_jit_compile("yes")


def test_fit_still_calls_the_private_build_step_that_multi_worker_training_skips():
    """``skip_symbolic_build`` replaces Keras' private ``_maybe_symbolic_build``: if a Keras
    upgrade renames it or ``fit`` stops calling it, the patch would silently do nothing."""
    import keras  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    def small_model() -> keras.Model:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model, calls = small_model(), []
    original = model._maybe_symbolic_build
    model._maybe_symbolic_build = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    model.fit(x, y, epochs=1, verbose=0)
    assert calls, "keras.Model.fit no longer calls _maybe_symbolic_build: revisit the patch"

    skipped = small_model()
    skip_symbolic_build(skipped)
    skipped.fit(x, y, epochs=1, verbose=0)  # the model is built already: training still works
    assert skipped.built
