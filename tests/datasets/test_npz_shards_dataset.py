import os

import numpy as np
import pytest
from kedro.io.core import DatasetError

from sketch_to_photo.datasets import LazyNpz, NpzShardsDataset, ResumableShard
from sketch_to_photo.datasets.npz_shards_dataset import FINGERPRINTS
from sketch_to_photo.utils.atomic import remove_stale_temporaries
from tests.conftest import mode, umask


def _arrays(n: int, value: int = 7) -> dict[str, np.ndarray]:
    return {
        "images": np.full((n, 8, 8, 3), value, np.uint8),
        "ids": np.array([f"n0_{i}-1" for i in range(n)], dtype=np.str_),
    }


def test_round_trip_with_nested_names_and_callables(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "pairs"))
    calls = []

    def lazy():
        calls.append(1)
        return _arrays(2, 9)

    dataset.save({"train/teapot-00000": _arrays(3), "test/car_(sedan)-00000": lazy})
    assert calls == [1]
    assert (tmp_path / "pairs" / "train" / "teapot-00000.npz").is_file()
    loaded = dataset.load()
    assert sorted(loaded) == ["test/car_(sedan)-00000", "train/teapot-00000"]
    shard = loaded["test/car_(sedan)-00000"]()
    assert isinstance(shard, LazyNpz)
    assert set(shard) == {"images", "ids"}
    np.testing.assert_array_equal(shard["images"], np.full((2, 8, 8, 3), 9, np.uint8))
    assert shard["ids"].dtype.kind == "U"


def test_failed_save_keeps_previous_shards(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "pairs"))
    dataset.save({"train/a-00000": _arrays(1)})

    def broken():
        raise RuntimeError("disk on fire")

    with pytest.raises(DatasetError, match="disk on fire"):
        dataset.save({"train/b-00000": _arrays(1), "train/c-00000": broken})
    assert sorted(dataset.load()) == ["train/a-00000"]
    assert [p.name for p in tmp_path.iterdir()] == ["pairs"]  # no temporary folder left


def test_save_replaces_stale_shards(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "pairs"), compress=False)
    dataset.save({"train/a-00000": _arrays(1), "train/b-00000": _arrays(1)})
    dataset.save({"train/a-00000": _arrays(2)})
    loaded = dataset.load()
    assert list(loaded) == ["train/a-00000"]
    assert len(loaded["train/a-00000"]()["ids"]) == 2


@pytest.mark.parametrize("name", ["../escape", "/abs", "a/../../b"])
def test_rejects_names_escaping_the_folder(tmp_path, name):
    with pytest.raises(DatasetError, match="Invalid shard name"):
        NpzShardsDataset(path=str(tmp_path / "pairs")).save({name: _arrays(1)})


def test_rejects_object_arrays(tmp_path):
    with pytest.raises(DatasetError, match="np.str_"):
        NpzShardsDataset(path=str(tmp_path / "p")).save(
            {"a": {"ids": np.array(["x", 1], dtype=object)}}
        )


def test_missing_folder_says_what_to_run(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "nothing"))
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="kedro run --pipelines data_processing"):
        dataset.load()


def test_lazy_npz_unknown_key_lists_keys(tmp_path):
    NpzShardsDataset(path=str(tmp_path / "p")).save({"s": _arrays(1)})
    shard = LazyNpz(tmp_path / "p" / "s.npz")
    with pytest.raises(KeyError, match="images, ids|ids, images"):
        shard["photos"]


def test_lazy_npz_length_reads_only_the_header(tmp_path, monkeypatch):
    NpzShardsDataset(path=str(tmp_path / "p")).save({"s": _arrays(3)})
    shard = NpzShardsDataset(path=str(tmp_path / "p")).load()["s"]()
    monkeypatch.setattr(np, "load", None)  # no array is decompressed
    assert shard.length("images") == shard.length("ids") == 3
    with pytest.raises(KeyError, match="images, ids|ids, images"):
        shard.length("photos")


def test_version_is_the_fingerprint_else_changes_with_the_file(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "p"))
    dataset.save({"plain": _arrays(1), "resumable": ResumableShard("fp-r", lambda: _arrays(1))})
    loaded = dataset.load()
    assert loaded["resumable"]().version == "fp-r"
    plain = loaded["plain"]().version
    assert dataset.load()["plain"]().version == plain  # unchanged: the same version
    dataset.save({"plain": _arrays(2), "resumable": ResumableShard("fp-r", lambda: _arrays(1))})
    assert dataset.load()["plain"]().version != plain


class Counted:
    """A shard computation that records each call and can fail, like a crash mid-save."""

    def __init__(self, value: int, fail: bool = False) -> None:
        self.value, self.fail, self.calls = value, fail, 0

    def __call__(self) -> dict[str, np.ndarray]:
        self.calls += 1
        if self.fail:
            raise RuntimeError("crash while computing this shard")
        return _arrays(2, self.value)


def _leftovers(folder) -> list[str]:
    """Temporaries and staging folders beside the dataset (there should be none)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_resumable_shards_are_reused_after_a_crash_and_recomputed_when_changed(tmp_path):
    dataset = NpzShardsDataset(path=str(tmp_path / "segmented"))
    first, second = Counted(1), Counted(2, fail=True)
    with pytest.raises(DatasetError, match="crash while computing"):
        dataset.save({"a": ResumableShard("fp-a", first), "b": ResumableShard("fp-b", second)})
    assert not (tmp_path / "segmented").exists()  # nothing half-written in place
    assert _leftovers(tmp_path) == [".segmented.partial"]  # but "a" is kept for the rerun

    second.fail = False
    dataset.save({"a": ResumableShard("fp-a", first), "b": ResumableShard("fp-b", second)})
    assert (first.calls, second.calls) == (1, 2)  # "a" reused, "b" computed again
    assert _leftovers(tmp_path) == []  # staging and temporaries gone after success
    assert int(dataset.load()["a"]()["images"][0, 0, 0, 0]) == 1

    # an unchanged rerun reuses every shard; a changed input recomputes exactly its shard
    third = Counted(3)
    dataset.save({"a": ResumableShard("fp-a", first), "b": ResumableShard("fp-b2", third)})
    assert (first.calls, second.calls, third.calls) == (1, 2, 1)
    loaded = dataset.load()
    assert loaded["a"]().fingerprint == "fp-a" and loaded["b"]().fingerprint == "fp-b2"
    assert int(loaded["b"]()["images"][0, 0, 0, 0]) == 3


def test_temporaries_of_killed_processes_are_removed_and_others_kept(tmp_path):
    dead = 2**22 + 12345  # above Linux's default pid_max (2**22): no such process
    (tmp_path / f".pairs.{dead}.x1.tmp").mkdir()
    (tmp_path / f".pairs.{dead}.x2.tmp.npz").write_bytes(b"half")
    live = tmp_path / f".pairs.{os.getppid()}.x3.tmp"
    live.mkdir()  # another run writing now
    unrelated = tmp_path / ".pairs.notes"
    unrelated.write_text("mine")
    NpzShardsDataset(path=str(tmp_path / "pairs")).save({"a": _arrays(1)})
    assert _leftovers(tmp_path) == sorted([live.name, unrelated.name])


def test_a_kill_between_moving_the_old_folder_aside_and_the_new_in_restores_the_old(tmp_path):
    aside = tmp_path / f".pairs.{2**22 + 7}.x.old"
    aside.mkdir()
    NpzShardsDataset(path=str(aside / "pairs")).save({"old": _arrays(1)})
    assert remove_stale_temporaries(tmp_path / "pairs")
    assert sorted(NpzShardsDataset(path=str(tmp_path / "pairs")).load()) == ["old"]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("mask", "file_mode", "folder_mode"),
    [
        pytest.param(0o022, 0o644, 0o755, id="umask022"),
        pytest.param(0o027, 0o640, 0o750, id="umask027"),
    ],
)
def test_shards_and_their_folders_get_the_modes_of_a_plain_write(
    tmp_path, mask, file_mode, folder_mode
):
    pairs = tmp_path / "05_model_input" / "pairs"
    with umask(mask):
        NpzShardsDataset(path=str(pairs)).save(
            {
                "train/teapot-00000": _arrays(2),  # written directly
                "test/car_(sedan)-00000": ResumableShard("fp", lambda: _arrays(1)),  # staged
            }
        )

    files = sorted(p for p in pairs.rglob("*") if p.is_file())
    folders = [pairs, *sorted(p for p in pairs.rglob("*") if p.is_dir())]
    assert [f.name for f in files] == [FINGERPRINTS, "car_(sedan)-00000.npz", "teapot-00000.npz"]
    assert {f.name: mode(f) for f in files} == {f.name: file_mode for f in files}
    assert {str(d): mode(d) for d in folders} == {str(d): folder_mode for d in folders}
