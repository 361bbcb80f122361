"""Atomic writes on a real small disk: a full or read-only disk leaves the old file whole and
says so."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest

from sketch_to_photo.utils.atomic import (
    OutputNotWrittenError,
    atomic_directory,
    atomic_file,
    not_written_error,
)
from tests.conftest import fill_disk, mode, read_only, small_disk, umask


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_full_disk_keeps_the_previous_file_and_says_what_to_do(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        target = disk / "reports" / "metrics.npz"
        with atomic_file(target, suffix=".npz") as partial:
            np.savez(partial, x=np.arange(10))
        before = target.read_bytes()
        fill_disk(disk, leave_bytes=8 * 1024)

        with pytest.raises(OutputNotWrittenError) as raised:
            with atomic_file(target, suffix=".npz") as partial:
                np.savez(partial, x=np.random.default_rng(0).random(100_000))

        message = str(raised.value)
        assert raised.value.errno == errno.ENOSPC
        assert str(target) in message
        assert "no space left on the disk that holds" in message
        assert "KB free" in message or "bytes free" in message
        assert "The previous metrics.npz is unchanged" in message
        assert "Free some space there" in message
        assert target.read_bytes() == before
        assert _leftovers(target.parent) == []


def test_a_read_only_disk_is_named_and_nothing_changes(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        folder = disk / "shards"
        with atomic_directory(folder) as partial:
            (partial / "a.txt").write_text("first")
        read_only(disk)

        with pytest.raises(OutputNotWrittenError) as raised:
            with atomic_directory(folder) as partial:
                (partial / "a.txt").write_text("second")

        assert raised.value.errno == errno.EROFS
        assert f"{disk} is on a read-only file system" in str(raised.value)
        assert "The previous shards is unchanged" in str(raised.value)
        assert (folder / "a.txt").read_text() == "first"
        assert _leftovers(disk) == []


def test_a_new_file_on_a_full_disk_says_nothing_was_written(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 128) as disk:
        fill_disk(disk, leave_bytes=4 * 1024)
        target = disk / "new.bin"
        with pytest.raises(OutputNotWrittenError, match="Nothing was written"):
            with atomic_file(target) as partial:
                partial.write_bytes(b"x" * 100_000)
        assert not target.exists()
        assert _leftovers(disk) == []


def test_permission_errors_are_explained_from_a_wrapped_cause(tmp_path: Path) -> None:
    # Root may write anywhere, so the refusal is built here; the message is what is tested.
    denied = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x.json"))
    wrapper = RuntimeError("Failed while saving data to dataset JSONDataset(...)")
    wrapper.__cause__ = denied
    error = not_written_error(tmp_path / "x.json", wrapper, existed=True)
    assert error is not None
    assert f"may not write to {tmp_path}" in str(error)
    assert "chmod/chown" in str(error)


def test_other_failures_pass_through_unchanged(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    with pytest.raises(ValueError, match="not a disk problem"):
        with atomic_file(target):
            raise ValueError("not a disk problem")
    assert not_written_error(target, FileNotFoundError(errno.ENOENT, "gone"), True) is None
    assert _leftovers(tmp_path) == []


# The modes a plain open()/mkdir() gives under each umask: what every written output must get.
UMASKS = [
    pytest.param(0o022, 0o644, 0o755, id="umask022"),
    pytest.param(0o027, 0o640, 0o750, id="umask027"),
    pytest.param(0o077, 0o600, 0o700, id="umask077"),
]


@pytest.mark.parametrize(("mask", "file_mode", "folder_mode"), UMASKS)
def test_a_written_file_gets_the_mode_of_a_plain_write(
    tmp_path: Path, mask: int, file_mode: int, folder_mode: int
) -> None:
    with umask(mask):
        plain = tmp_path / "plain.json"
        plain.write_text("{}")
        target = tmp_path / "reports" / "metrics.npz"
        with atomic_file(target, suffix=".npz") as partial:
            np.savez(partial, x=np.arange(3))
        first = mode(target)
        with atomic_file(target, suffix=".npz") as partial:  # replacing an existing file
            np.savez(partial, x=np.arange(4))

    assert mode(plain) == file_mode  # the reference: what the umask gives
    assert (first, mode(target)) == (file_mode, file_mode)
    assert mode(target.parent) == folder_mode  # the folder it created
    assert _leftovers(target.parent) == []


@pytest.mark.parametrize(("mask", "file_mode", "folder_mode"), UMASKS)
def test_a_written_directory_gets_the_mode_of_a_plain_mkdir(
    tmp_path: Path, mask: int, file_mode: int, folder_mode: int
) -> None:
    target = tmp_path / "shards"
    with umask(mask):
        for text in ("first", "second"):  # new, then replacing the existing tree
            with atomic_directory(target) as partial:
                (partial / "train").mkdir()
                (partial / "train" / "a.txt").write_text(text)

    assert mode(target) == folder_mode
    assert mode(target / "train") == folder_mode
    assert mode(target / "train" / "a.txt") == file_mode
    assert _leftovers(tmp_path) == []
