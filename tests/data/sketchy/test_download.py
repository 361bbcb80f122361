"""Tests of the download of one file against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from sketch_to_photo.data.sketchy.download import DownloadError, download_file
from tests.archive_server import ServerState
from tests.data.sketchy.archives import closed_port, md5_of


def partial_files(target: Path) -> list[Path]:
    """gdown's unfinished transfers of ``target``: ``<name>.unverified<8 characters>.part``."""
    return sorted(target.parent.glob(f"{target.name}.unverified????????.part"))


def gdown_part(target: Path) -> Path:
    """A partial file where gdown looks for one to resume."""
    return target.with_name(f"{target.name}.unverifiedABCD1234.part")


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
    assert server.settled_sent() == len(data)


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
    assert server.settled_sent() == len(data) + 1_200_000 - kept


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
