"""Tests of the acquisition of the Sketchy archives (downloaded from a real HTTP server on
127.0.0.1, or local) as one verified tree."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from kedro.config import OmegaConfigLoader

from sketch_to_photo.data.sketchy.archives import (
    MARKER_NAME,
    ArchiveSpec,
    acquire_sketchy_archives,
    extract_local,
)
from sketch_to_photo.data.sketchy.download import DownloadError
from sketch_to_photo.data.sketchy.layout import is_sketchy_tree
from sketch_to_photo.settings import CONFIG_LOADER_ARGS
from tests.archive_server import ServerState
from tests.conftest import PROJECT_ROOT
from tests.data.sketchy.archives import PHOTO, TESTSET, Archives, closed_port, md5_of


def serve_archives(server: ServerState, *paths: Path) -> list[ArchiveSpec]:
    specs = []
    for path in paths:
        data = path.read_bytes()
        server.files[path.name] = data
        specs.append(ArchiveSpec(path.name, server.url(path.name), md5_of(data)))
    return specs


# --------------------------------------------------------------------------- acquire


def test_acquire_downloads_extracts_and_then_skips(
    server: ServerState, archives: Archives, tmp_path: Path
) -> None:
    specs = serve_archives(server, archives.rendered, archives.info)
    archive_dir, extract_dir = tmp_path / "archives", tmp_path / "sketchy"

    result = acquire_sketchy_archives(specs, archive_dir, extract_dir, progress=False)
    assert result["skipped"] is False
    assert result["root"] == str(extract_dir)
    assert [a["name"] for a in result["archives"]] == [s.name for s in specs]
    assert [a["md5"] for a in result["archives"]] == [s.md5 for s in specs]
    assert result["archives"][0]["bytes"] == archives.rendered.stat().st_size
    assert is_sketchy_tree(extract_dir)
    assert (extract_dir / PHOTO).read_bytes() == archives.photo
    assert (extract_dir / TESTSET).read_text() == "teapot/n04398044_1.jpg\n"
    marker = json.loads((extract_dir / MARKER_NAME).read_text())
    assert {(a["name"], a["md5"]) for a in marker["archives"]} == {(s.name, s.md5) for s in specs}
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(server.requests) == 2

    again = acquire_sketchy_archives(specs, archive_dir, extract_dir, progress=False)
    assert again["skipped"] is True
    assert again["root"] == str(extract_dir)
    assert len(server.requests) == 2

    # Without the tree, archives already present with the right MD5 are reused, not fetched.
    os.remove(extract_dir / MARKER_NAME)
    third = acquire_sketchy_archives(specs, archive_dir, extract_dir, progress=False)
    assert third["skipped"] is False
    assert is_sketchy_tree(extract_dir)
    assert len(server.requests) == 2


def test_md5_mismatch_quarantines_and_extracts_nothing(
    server: ServerState, archives: Archives, tmp_path: Path
) -> None:
    (spec,) = serve_archives(server, archives.rendered)
    bad = ArchiveSpec(spec.name, spec.url, "0123456789abcdef0123456789abcdef")
    archive_dir, extract_dir = tmp_path / "archives", tmp_path / "sketchy"

    with pytest.raises(DownloadError) as info:
        acquire_sketchy_archives([bad], archive_dir, extract_dir, progress=False)
    message = str(info.value)
    assert bad.md5 in message and spec.md5 in message and spec.name in message
    assert (archive_dir / f"{spec.name}.corrupt").read_bytes() == archives.rendered.read_bytes()
    assert sorted(p.name for p in archive_dir.iterdir()) == [f"{spec.name}.corrupt"]
    assert not extract_dir.exists()


def test_offline_fails_fast_with_instructions(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/rendered_256x256.7z"
    spec = ArchiveSpec("rendered_256x256.7z", url, "6a9dccbd07b48566c4754a7674087657")
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        acquire_sketchy_archives([spec], tmp_path / "a", tmp_path / "x", progress=False)
    assert time.monotonic() - start < 5
    message = str(info.value)
    assert url in message
    assert "acquisition.local.path" in message
    assert str(tmp_path / "a" / "rendered_256x256.7z") in message
    assert not (tmp_path / "x").exists()


def test_archive_without_photos_leaves_nothing(
    server: ServerState, archives: Archives, tmp_path: Path
) -> None:
    specs = serve_archives(server, archives.no_photo, archives.info)
    extract_dir = tmp_path / "out" / "sketchy"
    with pytest.raises(DownloadError, match=r"256x256/photo/ missing"):
        acquire_sketchy_archives(specs, tmp_path / "archives", extract_dir, progress=False)
    assert not extract_dir.exists()
    assert list((tmp_path / "out").iterdir()) == []


# --------------------------------------------------------------------------- safe extraction


def test_extract_local_from_folder_then_skips(archives: Archives, tmp_path: Path) -> None:
    folder = tmp_path / "by_hand"
    folder.mkdir()
    for path in (archives.rendered, archives.info):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("not an archive")
    extract_dir = tmp_path / "sketchy"

    result = extract_local(folder, extract_dir)
    assert result["skipped"] is False
    assert is_sketchy_tree(extract_dir)
    assert {a["md5"] for a in result["archives"]} == {
        md5_of(archives.rendered.read_bytes()),
        md5_of(archives.info.read_bytes()),
    }
    assert (extract_dir / MARKER_NAME).is_file()

    assert extract_local(folder, extract_dir)["skipped"] is True


def test_extract_local_single_archive_is_incomplete(archives: Archives, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"info/ missing"):
        extract_local(archives.rendered, tmp_path / "sketchy")
    assert not (tmp_path / "sketchy").exists()


def test_extract_local_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="does not exist"):
        extract_local(tmp_path / "nowhere", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DownloadError, match=r"holds no \.7z"):
        extract_local(tmp_path / "empty", tmp_path / "out")
    (tmp_path / "a.zip").write_bytes(b"PK")
    with pytest.raises(DownloadError, match=r"not a \.7z"):
        extract_local(tmp_path / "a.zip", tmp_path / "out")


# --------------------------------------------------------------------------- constants


def test_official_archives_match_the_notes() -> None:
    """The archives' one source is conf/base/parameters_data_acquisition.yml."""
    parameters = OmegaConfigLoader(conf_source=str(PROJECT_ROOT / "conf"), **CONFIG_LOADER_ARGS)
    archives = parameters["parameters"]["acquisition"]["sketchy"]["archives"]
    by_name = {spec["name"]: ArchiveSpec(**spec) for spec in archives}
    assert set(by_name) == {"rendered_256x256.7z", "info-06-04.7z"}
    assert by_name["rendered_256x256.7z"].md5 == "6a9dccbd07b48566c4754a7674087657"
    assert by_name["info-06-04.7z"].md5 == "f99274c883d073b323c87140bef7bdbf"
    assert "id=1z4--ToTXYb0-2cLuUWPYM5m7ST7Ob3Ck" in by_name["rendered_256x256.7z"].url
    assert "id=1x8n7qaMg1z2SC-1sT5yjIMmMIr0UcBVW" in by_name["info-06-04.7z"].url
    for spec in by_name.values():
        assert spec.url.startswith("https://drive.usercontent.google.com/download?id=")
        assert spec.url.endswith("&export=download&confirm=t")
