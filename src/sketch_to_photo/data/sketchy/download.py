"""Resumable, verified download and safe extraction of the official Sketchy archives.

gdown downloads (it resumes a partial file with an HTTP ``Range`` request and retries a dropped
connection); the file gets its final name only once complete and (when an MD5 is known)
verified. Archives are checked member by member before anything is written, all of them are
extracted into one temporary folder, and that folder replaces the target only once it holds a
complete Sketchy tree and a marker file naming the archives it came from.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import lzma
import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import gdown
import gdown.exceptions
import py7zr
import py7zr.exceptions
import requests

from sketch_to_photo.data.sketchy.layout import INFO_ROOT, PHOTO_ROOT, SKETCH_ROOT, is_sketchy_tree
from sketch_to_photo.utils.atomic import atomic_directory

logger = logging.getLogger(__name__)

MARKER_NAME = ".sketchy-complete.json"
SKETCHY_SITE = "https://sketchy.eye.gatech.edu/"
_MD5_CHUNK = 1 << 20
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
# gdown's words when a resume request is answered without the range asked (200 or 416).
_RANGE_REFUSED = "did not honor the requested byte range"


@dataclass(frozen=True)
class ArchiveSpec:
    """One archive to download: its file name, URL and expected MD5."""

    name: str
    url: str
    md5: str


class DownloadError(RuntimeError):
    """A download or extraction failed in a way the user can act on; the message says how."""


def _manual_hint(name: str, archive_dir: Path) -> str:
    return (
        f"To supply the archives by hand: download them in a browser from the Sketchy site "
        f"({SKETCHY_SITE}), then either put them in {archive_dir} under their own names (this "
        f"one as {archive_dir / name}) and re-run, or use the `local` source with "
        f"`acquisition.local.path` pointing at the archive(s) or the extracted folder."
    )


def _md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_MD5_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _quarantine(file: Path, final_name: str, expected_md5: str, actual_md5: str) -> DownloadError:
    """Move a complete but corrupt download aside and build the error that explains it."""
    corrupt = file.with_name(final_name + ".corrupt")
    os.replace(file, corrupt)
    return DownloadError(
        f"MD5 mismatch for {final_name}: expected {expected_md5}, got {actual_md5}. "
        f"The downloaded file was moved to {corrupt} so that the next run starts afresh; "
        f"delete it and re-run to download again. If it fails again, the server is sending "
        f"something else (a changed file or an error page). "
        + _manual_hint(final_name, file.parent)
    )


def _html_error(url: str, name: str, archive_dir: Path) -> DownloadError:
    return DownloadError(
        f"The server at {url} answered with an HTML page instead of {name}. Google Drive does "
        f"this when the file's download quota is exceeded or when it asks to confirm a virus "
        f"scan; try again later, or " + _manual_hint(name, archive_dir)
    )


class _HtmlAnswer(Exception):
    """The body of a fresh transfer starts like an HTML page."""


class _HtmlSniffer:
    """Given to gdown as its ``hasher``, so it sees the first bytes: stops an HTML answer."""

    def __init__(self) -> None:
        self.first = True

    def update(self, data: bytes) -> None:
        if self.first:
            self.first = False
            if data[:1024].lstrip().lower().startswith((b"<!doctype html", b"<html")):
                raise _HtmlAnswer


class _ResumeRefused(Exception):
    """The server answered gdown's resume request without the range asked (200 or 416)."""


def _partial_files(staging: Path) -> list[Path]:
    """gdown's unfinished transfers to ``staging``: ``<staging name><8 characters>.part``."""
    return sorted(staging.parent.glob(glob.escape(staging.name) + "?" * 8 + ".part"))


def _network_cause(error: BaseException | None) -> BaseException | None:
    """The connection failure or timeout behind ``error`` (gdown wraps them after retries)."""
    while error is not None:
        if isinstance(error, (requests.ConnectionError, requests.Timeout)):
            return error
        error = error.__cause__
    return None


def _gdown(
    url: str, staging: Path, name: str, *, timeout: float, retries: int, progress: bool
) -> None:
    """One ``gdown.download`` to ``staging``, its failures turned into :class:`DownloadError`."""
    before = sum(p.stat().st_size for p in _partial_files(staging))
    received = before

    def seen(done: int, _total: int | None) -> None:
        nonlocal received
        received = done

    hint = _manual_hint(name, staging.parent)
    try:
        gdown.download(
            url,
            str(staging),
            quiet=not progress,
            use_cookies=False,  # nothing read from or written to ~/.cache/gdown
            resume=True,
            timeout=(min(timeout, 10.0), timeout),
            retries=retries,
            hasher=_HtmlSniffer(),
            progress=seen,
        )
    except requests.HTTPError as error:
        response = error.response
        raise DownloadError(
            f"Downloading {name} from {url} failed: the server answered HTTP "
            f"{response.status_code} {response.reason}. " + hint
        ) from error
    except (requests.RequestException, gdown.exceptions.DownloadError) as error:
        if _RANGE_REFUSED in str(error):
            raise _ResumeRefused from error
        cause = _network_cause(error)
        if cause is not None and received == before:
            raise DownloadError(
                f"Could not reach {url} to download {name} ({cause.__class__.__name__}: "
                f"{cause}). This machine may have no internet access. " + hint
            ) from error
        parts = _partial_files(staging)
        if not parts:
            raise DownloadError(
                f"Downloading {name} from {url} failed ({error}). {hint}"
            ) from error
        kind = (cause or error.__cause__ or error).__class__.__name__
        raise DownloadError(
            f"The download of {name} from {url} was interrupted after {parts[0].stat().st_size} "
            f"bytes ({kind}). The partial file {parts[0]} is kept: re-running resumes it."
        ) from error
    except OSError as error:
        written = next(iter(_partial_files(staging)), staging)
        raise DownloadError(
            f"Could not write {written} ({error}); free some disk space and re-run to resume "
            f"the download."
        ) from error


def _gdown_refusing_html(
    url: str, staging: Path, name: str, options: dict[str, Any], earlier: Path | None = None
) -> None:
    """:func:`_gdown`, and on an HTML answer (Drive's quota or sign-in page) drop what it sent,
    move ``earlier`` (the bytes of an earlier attempt, set aside) back, then raise."""
    try:
        _gdown(url, staging, name, **options)
    except _HtmlAnswer:
        for part in _partial_files(staging):
            part.unlink()
        if earlier is not None:
            os.replace(earlier, earlier.with_suffix(""))
        raise _html_error(url, name, staging.parent) from None


def _fetch(
    url: str,
    staging: Path,
    name: str,
    *,
    expected_md5: str | None,
    timeout: float,
    retries: int,
    progress: bool,
) -> None:
    """Download ``url`` to ``staging``, resuming gdown's partial file when one is there."""
    options = {"timeout": timeout, "retries": retries, "progress": progress}
    parts = _partial_files(staging)
    if parts:
        logger.info("Resuming %s from byte %d", name, parts[0].stat().st_size)
    else:
        logger.info("Downloading %s from %s", name, url)
    try:
        _gdown_refusing_html(url, staging, name, options)
        return
    except _ResumeRefused:
        (part,) = _partial_files(staging)
    # The server answered the resume request with the whole file (it ignores ranges, or the
    # file changed) or with 416 (the part may be complete).
    if expected_md5 is not None and _md5_of(part) == expected_md5:
        logger.info("%s is already complete on disk", part)
        os.replace(part, staging)
        return
    logger.warning("The server refused to resume %s; downloading it again from zero", name)
    # Kept aside, not deleted: an HTML page (Drive's quota page) must not cost the bytes so far.
    aside = part.with_name(part.name + ".aside")
    os.replace(part, aside)
    try:
        _gdown_refusing_html(url, staging, name, options, earlier=aside)
    finally:
        aside.unlink(missing_ok=True)


def _finish(staging: Path, destination: Path, expected_md5: str | None) -> Path:
    """Verify a complete download (when an MD5 is given) and give it its final name."""
    if expected_md5 is not None:
        actual = _md5_of(staging)
        if actual != expected_md5:
            raise _quarantine(staging, destination.name, expected_md5, actual)
    os.replace(staging, destination)
    logger.info("Downloaded %s (%d bytes)", destination, destination.stat().st_size)
    return destination


def download_file(
    url: str,
    destination: Path,
    *,
    expected_md5: str | None = None,
    timeout: float = 15.0,
    retries: int = 1,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``destination`` with gdown, resuming what an earlier run left.

    gdown streams to ``<destination>.unverified<8 characters>.part``, resumes that file with an
    HTTP ``Range`` request and, after a dropped connection, retries ``retries`` times within the
    call. The complete file gets its final name only once verified when ``expected_md5`` is
    given. Raises :class:`DownloadError` with what to do on every failure.
    """
    destination = Path(destination)
    staging = destination.with_name(destination.name + ".unverified")
    expected_md5 = expected_md5.strip().lower() if expected_md5 is not None else None
    if destination.exists():
        if expected_md5 is None:
            logger.info("%s already exists; not downloading it", destination)
            return destination
        actual = _md5_of(destination)
        if actual == expected_md5:
            logger.info("%s already exists with the expected MD5; not downloading it", destination)
            return destination
        corrupt = destination.with_name(destination.name + ".corrupt")
        logger.warning(
            "%s exists but its MD5 is %s, not %s: moving it to %s and downloading it again",
            destination,
            actual,
            expected_md5,
            corrupt,
        )
        os.replace(destination, corrupt)
    destination.parent.mkdir(parents=True, exist_ok=True)
    if not staging.exists():  # when it exists, a complete download stopped before its check
        _fetch(
            url,
            staging,
            destination.name,
            expected_md5=expected_md5,
            timeout=timeout,
            retries=retries,
            progress=progress,
        )
    return _finish(staging, destination, expected_md5)


def _unsafe_reason(member: Any) -> str | None:
    """Why an archive member must not be extracted, or None when it is a plain file/folder."""
    name: str = member.filename
    checks = (
        (not name or "\x00" in name, "an empty name or a NUL byte"),
        (name.startswith(("/", "\\")), "an absolute path"),
        (bool(_DRIVE_LETTER.match(name)), "a drive letter"),
        (".." in re.split(r"[/\\]", name), "a '..' component"),
        (member.is_symlink or member.is_junction, "a link"),
        # 7z keeps POSIX file types in the high bits of its attributes: only files and dirs pass.
        (
            member.is_socket or member.st_fmt not in (None, stat.S_IFREG, stat.S_IFDIR),
            "a special file type (device, socket or FIFO)",
        ),
    )
    return next((reason for failed, reason in checks if failed), None)


def safe_extract_7z(archive: Path, destination: Path) -> list[str]:
    """Extract ``archive`` into ``destination`` after checking every member; return their names.

    Any absolute path, ``..`` component, drive letter or link member refuses the whole archive
    before anything is written.
    """
    archive = Path(archive)
    destination = Path(destination)
    try:
        with py7zr.SevenZipFile(archive, mode="r") as sevenzip:
            # ``files`` holds py7zr's ArchiveFile objects; unlike ``list()`` they expose
            # junction/socket flags and the POSIX file type.
            members = list(sevenzip.files)
            bad = [(m.filename, reason) for m in members if (reason := _unsafe_reason(m))]
            if bad:
                shown = "; ".join(f"{name!r}: {reason}" for name, reason in bad[:5])
                raise DownloadError(
                    f"Refusing to extract {archive}: {len(bad)} member(s) could write outside "
                    f"{destination} or create links ({shown}). The archive is not a genuine "
                    f"Sketchy archive; delete it and download it again."
                )
            names = [m.filename for m in members]
            root = destination.resolve()
            for name in names:
                # Also catches a destination whose existing subfolders are links leading out.
                if not (root / name).resolve().is_relative_to(root):
                    raise DownloadError(f"Refusing to extract {archive}: {name!r} leaves {root}")
            destination.mkdir(parents=True, exist_ok=True)
            logger.info("Extracting %s (%d members) into %s", archive.name, len(names), destination)
            sevenzip.extractall(path=destination)
    except (
        py7zr.exceptions.ArchiveError,
        py7zr.exceptions.PasswordRequired,
        lzma.LZMAError,
        EOFError,
        KeyError,
    ) as error:
        # py7zr reports truncated or corrupt archives through all of these.
        raise DownloadError(
            f"{archive} is not a readable 7z archive or is damaged ({error.__class__.__name__}: "
            f"{error}). Delete it and download it again."
        ) from error
    return names


def _marker_matches(extract_dir: Path, records: Sequence[dict[str, Any]]) -> dict | None:
    """The marker's content when ``extract_dir`` is complete for exactly these archives."""
    marker = extract_dir / MARKER_NAME
    if not marker.is_file() or not is_sketchy_tree(extract_dir):
        return None
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
        recorded = {(a["name"], a["md5"].lower()) for a in content["archives"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    wanted = {(r["name"], r["md5"].lower()) for r in records}
    return content if recorded == wanted else None


def _acquired(
    extract_dir: Path, archives: list[dict[str, Any]], start: float, *, skipped: bool
) -> dict[str, Any]:
    """What an acquisition returns, whether it extracted or found its verified tree in place."""
    return {
        "root": str(extract_dir),
        "skipped": skipped,
        "archives": archives,
        "seconds": time.monotonic() - start,
    }


def _extract_all(archives: Sequence[Path], extract_dir: Path, records: list[dict]) -> int:
    """Extract all ``archives`` into one new tree that replaces ``extract_dir`` only if complete."""
    members = 0
    with atomic_directory(extract_dir) as tmp:
        for archive in archives:
            members += len(safe_extract_7z(archive, tmp))
        if not is_sketchy_tree(tmp):
            missing = [
                str(p) for p in (PHOTO_ROOT, SKETCH_ROOT, INFO_ROOT) if not (tmp / p).is_dir()
            ]
            raise DownloadError(
                f"The archives {[a.name for a in archives]} do not make a Sketchy tree: "
                f"{', '.join(f'{m}/' for m in missing)} missing after extraction. Expected "
                f"rendered_256x256.7z (256x256/photo, 256x256/sketch) and info-06-04.7z "
                f"(info/). Nothing was written to {extract_dir}."
            )
        marker = {
            "archives": records,
            "members": members,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / MARKER_NAME).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    logger.info("Extracted %d members into %s", members, extract_dir)
    return members


def acquire_sketchy_archives(
    archives: Sequence[ArchiveSpec],
    archive_dir: Path,
    extract_dir: Path,
    *,
    progress: bool = True,
    timeout: float = 15.0,
    retries: int = 1,
) -> dict:
    """Download (or reuse) ``archives`` into ``archive_dir`` and extract them to ``extract_dir``.

    Returns ``{"root", "skipped", "archives": [{"name", "md5", "bytes"}], "seconds"}``; skips
    everything, network included, when ``extract_dir`` already records the same archives.
    """
    start = time.monotonic()
    archive_dir = Path(archive_dir)
    extract_dir = Path(extract_dir)
    if not archives:
        raise DownloadError("No archives to acquire were given.")
    wanted = [{"name": a.name, "md5": a.md5.lower()} for a in archives]
    done = _marker_matches(extract_dir, wanted)
    if done is not None:
        logger.info("%s already holds the extracted archives; skipping download", extract_dir)
        return _acquired(extract_dir, done["archives"], start, skipped=True)
    paths: list[Path] = []
    records: list[dict] = []
    for spec in archives:
        path = download_file(
            spec.url,
            archive_dir / spec.name,
            expected_md5=spec.md5,
            timeout=timeout,
            retries=retries,
            progress=progress,
        )
        paths.append(path)
        records.append({"name": spec.name, "md5": spec.md5.lower(), "bytes": path.stat().st_size})
    _extract_all(paths, extract_dir, records)
    return _acquired(extract_dir, records, start, skipped=False)


def extract_local(source: Path, extract_dir: Path, official: Sequence[ArchiveSpec] = ()) -> dict:
    """Extract user-supplied archives (a ``.7z`` file or a folder of them) to ``extract_dir``.

    Returns the same dictionary as :func:`acquire_sketchy_archives`; skips the extraction when
    ``extract_dir`` already records archives with the same names and MD5s.
    """
    start = time.monotonic()
    source = Path(source)
    extract_dir = Path(extract_dir)
    if not source.exists():
        raise DownloadError(
            f"The local Sketchy source {source} does not exist. Set `acquisition.local.path` to "
            f"a .7z archive or a folder holding rendered_256x256.7z and info-06-04.7z."
        )
    if source.is_dir():
        archives = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() == ".7z")
        if not archives:
            hint = (
                " It looks like an already extracted Sketchy tree: use it as it is."
                if is_sketchy_tree(source)
                else " Put rendered_256x256.7z and info-06-04.7z in it."
            )
            raise DownloadError(f"The local Sketchy source {source} holds no .7z archives.{hint}")
    elif source.suffix.lower() == ".7z":
        archives = [source]
    else:
        raise DownloadError(f"The local Sketchy source {source} is not a .7z archive.")

    expected = {a.name: a.md5 for a in official}  # warn about a local copy that differs
    records: list[dict] = []
    for archive in archives:
        md5 = _md5_of(archive)
        if archive.name in expected and expected[archive.name] != md5:
            logger.warning(
                "%s has MD5 %s, not the official %s: it may be incomplete or damaged",
                archive,
                md5,
                expected[archive.name],
            )
        records.append({"name": archive.name, "md5": md5, "bytes": archive.stat().st_size})
    done = _marker_matches(extract_dir, records)
    if done is not None:
        logger.info("%s already holds the extracted local archives; skipping", extract_dir)
        return _acquired(extract_dir, done["archives"], start, skipped=True)
    _extract_all(archives, extract_dir, records)
    return _acquired(extract_dir, records, start, skipped=False)
