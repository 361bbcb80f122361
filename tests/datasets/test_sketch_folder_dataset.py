"""The batch inference folder: hidden files left out, and an empty or missing folder stops the
run with what to put where."""

from __future__ import annotations

import pytest
from kedro.io.core import DatasetError

from sketch_to_photo.datasets import FileBytesDataset, SketchFolderDataset


def folder_dataset(path) -> SketchFolderDataset:
    return SketchFolderDataset(path=str(path), dataset=FileBytesDataset)


def test_every_visible_file_loads_as_bytes_and_hidden_files_are_left_out(tmp_path):
    (tmp_path / "ants").mkdir()
    (tmp_path / "a.png").write_bytes(b"a")
    (tmp_path / "ants" / "b.jpg").write_bytes(b"b")
    (tmp_path / ".DS_Store").write_bytes(b"\x00")
    (tmp_path / "ants" / ".gitkeep").write_bytes(b"")

    loaded = folder_dataset(tmp_path).load()

    assert {name: load() for name, load in loaded.items()} == {"a.png": b"a", "ants/b.jpg": b"b"}


def test_a_folder_with_only_hidden_files_says_it_is_empty_and_what_to_put_there(tmp_path):
    (tmp_path / ".gitkeep").write_bytes(b"")
    with pytest.raises(DatasetError) as raised:
        folder_dataset(tmp_path).load()
    message = str(raised.value)
    assert f"the sketch folder {tmp_path} is empty (hidden files such as .gitkeep" in message
    assert f"`cp my_sketches/*.png {tmp_path}/`" in message
    assert '--params "sketch_folder=/path/to/sketches"' in message


def test_a_missing_folder_is_named_as_an_absolute_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatasetError) as raised:
        folder_dataset("data/01_raw/user_sketches").load()
    folder = tmp_path / "data" / "01_raw" / "user_sketches"
    assert f"the sketch folder {folder} does not exist" in str(raised.value)
    assert f"`mkdir -p {folder} && cp my_sketches/*.png {folder}/`" in str(raised.value)


def test_a_file_added_after_a_failed_load_is_found(tmp_path):
    dataset = folder_dataset(tmp_path)
    with pytest.raises(DatasetError):
        dataset.load()
    (tmp_path / "a.png").write_bytes(b"a")
    assert list(dataset.load()) == ["a.png"]
