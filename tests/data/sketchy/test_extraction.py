"""Tests of the safe extraction of 7z archives: real archives, some of them malicious."""

from __future__ import annotations

from pathlib import Path

import py7zr
import pytest

from sketch_to_photo.data.sketchy.download import DownloadError
from sketch_to_photo.data.sketchy.extraction import safe_extract_7z
from tests.data.sketchy.archives import PHOTO, SKETCH, Archives


def _evil_archive(path: Path, evil_name: str) -> Path:
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.writestr(b"fine", "ok.txt")
        # The public writestr refuses bad names since py7zr 1.0; an attacker's tool would not.
        archive._writestr(b"evil", evil_name)
    return path


@pytest.mark.parametrize(
    "evil_name",
    ["../evil.txt", "a/../../evil.txt", "ABSOLUTE", "C:/evil.txt", "C:evil.txt"],
)
def test_safe_extract_refuses_escaping_members(tmp_path: Path, evil_name: str) -> None:
    if evil_name == "ABSOLUTE":
        evil_name = str(tmp_path / "evil.txt")
    archive = _evil_archive(tmp_path / "evil.7z", evil_name)
    destination = tmp_path / "deep" / "dest"
    with pytest.raises(DownloadError, match="Refusing to extract"):
        safe_extract_7z(archive, destination)
    assert not destination.exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "deep" / "evil.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["evil.7z"]


def test_safe_extract_refuses_symlinks(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.txt").write_text("fine")
    (source / "link").symlink_to("/etc/passwd")
    archive = tmp_path / "link.7z"
    # py7zr cannot mix writestr() and symlinks in one archive, so both come from files.
    with py7zr.SevenZipFile(archive, "w") as sevenzip:
        sevenzip.write(source / "ok.txt", "ok.txt")
        sevenzip.write(source / "link", "link")
    with pytest.raises(DownloadError, match="a link"):
        safe_extract_7z(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_safe_extract_returns_member_names(archives: Archives, tmp_path: Path) -> None:
    names = safe_extract_7z(archives.rendered, tmp_path / "dest")
    assert sorted(names) == sorted([PHOTO, SKETCH])
    assert (tmp_path / "dest" / SKETCH).is_file()


def test_damaged_archive_is_a_download_error(archives: Archives, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.7z"
    damaged.write_bytes(archives.rendered.read_bytes()[:1000])
    with pytest.raises(DownloadError, match="damaged"):
        safe_extract_7z(damaged, tmp_path / "dest")


# --------------------------------------------------------------------------- extract_local
