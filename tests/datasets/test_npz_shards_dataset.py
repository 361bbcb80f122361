import numpy as np
import pytest
from kedro.io.core import DatasetError

from sketch_to_photo.datasets import LazyNpz, NpzShardsDataset


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
