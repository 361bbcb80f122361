"""Tests of the Sketchy downloader against a real HTTP server on 127.0.0.1 and real 7z files."""

from __future__ import annotations

import hashlib
import json
import os
import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import py7zr
import pytest
from kedro.config import OmegaConfigLoader

from sketch_to_photo.data.sketchy.download import (
    MARKER_NAME,
    ArchiveSpec,
    DownloadError,
    acquire_sketchy_archives,
    download_file,
    extract_local,
    safe_extract_7z,
)
from sketch_to_photo.data.sketchy.layout import is_sketchy_tree
from sketch_to_photo.settings import CONFIG_LOADER_ARGS
from tests.archive_server import ServerState
from tests.conftest import PROJECT_ROOT

PHOTO = "256x256/photo/tx_000000000000/teapot/n04398044_1.jpg"
SKETCH = "256x256/sketch/tx_000000000000/teapot/n04398044_1-1.png"
TESTSET = "info/testset.txt"


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# --------------------------------------------------------------------------- archives


@dataclass(frozen=True)
class Archives:
    rendered: Path  # 256x256/ (photo + sketch)
    info: Path  # info/
    no_photo: Path  # 256x256/sketch only
    photo: bytes  # the content of PHOTO


def _pack(path: Path, members: dict[str, bytes]) -> Path:
    with py7zr.SevenZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(data, name)
    return path


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Archives:
    root = tmp_path_factory.mktemp("archives")
    rng = random.Random(0)
    # Incompressible, so the archive is large enough to cut a transfer in the middle.
    photo = rng.randbytes(200_000)
    sketch = rng.randbytes(50_000)
    testset = b"teapot/n04398044_1.jpg\n"
    return Archives(
        rendered=_pack(root / "rendered_256x256.7z", {PHOTO: photo, SKETCH: sketch}),
        info=_pack(root / "info-06-04.7z", {TESTSET: testset}),
        no_photo=_pack(root / "sketch_only.7z", {SKETCH: sketch}),
        photo=photo,
    )


def serve_archives(server: ServerState, *paths: Path) -> list[ArchiveSpec]:
    specs = []
    for path in paths:
        data = path.read_bytes()
        server.files[path.name] = data
        specs.append(ArchiveSpec(path.name, server.url(path.name), md5_of(data)))
    return specs


def partial_files(target: Path) -> list[Path]:
    """gdown's unfinished transfers of ``target``: ``<name>.unverified<8 characters>.part``."""
    return sorted(target.parent.glob(f"{target.name}.unverified????????.part"))


def gdown_part(target: Path) -> Path:
    """A partial file where gdown looks for one to resume."""
    return target.with_name(f"{target.name}.unverifiedABCD1234.part")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- download_file


def test_full_download_with_md5(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(1).randbytes(300_000)
    server.files["blob.bin"] = data
    target = tmp_path / "dl" / "blob.bin"
    # An MD5 pasted in capitals with a stray space is the same MD5.
    expected = f" {md5_of(data).upper()}\n"
    result = download_file(server.url("blob.bin"), target, expected_md5=expected)
    assert result == target
    assert target.read_bytes() == data
    assert sorted(p.name for p in target.parent.iterdir()) == ["blob.bin"]
    assert server.ranges() == [None]
    assert server.sent == len(data)


def test_existing_file_with_right_md5_needs_no_network(tmp_path: Path) -> None:
    data = b"already here"
    target = tmp_path / "blob.bin"
    target.write_bytes(data)
    url = f"http://127.0.0.1:{closed_port()}/blob.bin"
    assert download_file(url, target, expected_md5=md5_of(data), progress=False) == target


def test_existing_file_with_wrong_md5_is_replaced(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(5).randbytes(20_000)
    server.files["blob.bin"] = data
    target = tmp_path / "blob.bin"
    target.write_bytes(b"stale")
    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert target.read_bytes() == data
    assert (tmp_path / "blob.bin.corrupt").read_bytes() == b"stale"


def test_resume_after_cut_connection(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(2).randbytes(2_000_000)
    server.files["blob.bin"] = data
    server.cut_after = 1_200_000
    target = tmp_path / "blob.bin"

    # Without retries the cut ends the call; the next call (the next run) resumes.
    with pytest.raises(DownloadError, match="re-running resumes it") as info:
        download_file(
            server.url("blob.bin"), target, expected_md5=md5_of(data), retries=0, progress=False
        )
    (part,) = partial_files(target)
    assert str(part) in str(info.value)
    assert not target.exists()
    # urllib3 drops the bytes of the read that hit the cut: up to one of gdown's 512 KiB chunks.
    kept = part.stat().st_size
    assert 1_200_000 - (1 << 19) <= kept <= 1_200_000
    assert part.read_bytes() == data[:kept]

    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=True)
    assert target.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]
    # gdown opens the URL once without a range before resuming with one.
    assert server.ranges() == [None, None, f"bytes={kept}-"]


def test_cut_connection_is_resumed_within_the_call(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(6).randbytes(2_000_000)
    server.files["blob.bin"] = data
    server.cut_after = 1_200_000
    target = tmp_path / "blob.bin"

    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert target.read_bytes() == data
    first, resume = server.ranges()
    kept = int(resume.removeprefix("bytes=").removesuffix("-"))
    assert first is None and 1_200_000 - (1 << 19) <= kept <= 1_200_000
    # Only the bytes lost at the cut are fetched twice.
    assert server.sent == len(data) + 1_200_000 - kept


def test_server_ignoring_range_restarts_cleanly(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(3).randbytes(100_000)
    server.files["blob.bin"] = data
    server.ignore_range = True
    target = tmp_path / "blob.bin"
    # A stale part whose bytes differ from the file: appending to it would corrupt the result.
    gdown_part(target).write_bytes(b"\xff" * 5000)

    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert target.read_bytes() == data
    assert server.ranges() == [None, "bytes=5000-", None]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]


def test_complete_part_and_416_is_finished(server: ServerState, tmp_path: Path) -> None:
    data = random.Random(4).randbytes(10_000)
    server.files["blob.bin"] = data
    target = tmp_path / "blob.bin"
    gdown_part(target).write_bytes(data)

    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert target.read_bytes() == data
    assert server.ranges() == [None, f"bytes={len(data)}-"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob.bin"]


def test_html_answer_is_an_error(server: ServerState, tmp_path: Path) -> None:
    server.files["blob.bin"] = b"data"
    server.html = True
    target = tmp_path / "blob.bin"
    with pytest.raises(DownloadError, match="HTML page") as info:
        download_file(server.url("blob.bin"), target, progress=False)
    assert "quota" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_html_answer_to_a_resume_keeps_the_partial_file(
    server: ServerState, tmp_path: Path
) -> None:
    data = random.Random(7).randbytes(50_000)
    server.files["blob.bin"] = data
    server.html = True
    target = tmp_path / "blob.bin"
    part = gdown_part(target)
    part.write_bytes(data[:20_000])
    with pytest.raises(DownloadError, match="HTML page"):
        download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert list(tmp_path.iterdir()) == [part]
    assert part.read_bytes() == data[:20_000]

    server.html = False
    download_file(server.url("blob.bin"), target, expected_md5=md5_of(data), progress=False)
    assert target.read_bytes() == data
    assert server.ranges()[-1] == "bytes=20000-"


def test_http_error_status_is_an_error(server: ServerState, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(server.url("missing.bin"), tmp_path / "missing.bin", progress=False)


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
