"""Resumable, verified download of one file over HTTP.

gdown downloads (it resumes a partial file with an HTTP ``Range`` request and retries a dropped
connection); the file gets its final name only once complete and (when an MD5 is known)
verified. Every failure is a :class:`DownloadError` whose message says what to do, including how
to supply the Sketchy archives by hand.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import gdown
import gdown.exceptions
import requests

logger = logging.getLogger(__name__)

SKETCHY_SITE = "https://sketchy.eye.gatech.edu/"
_MD5_CHUNK = 1 << 20
# gdown's words when a resume request is answered without the range asked (200 or 416).
_RANGE_REFUSED = "did not honor the requested byte range"


class DownloadError(RuntimeError):
    """A download or extraction failed in a way the user can act on; the message says how."""


def _manual_hint(name: str, archive_dir: Path) -> str:
    return (
        f"To supply the archives by hand: download them in a browser from the Sketchy site "
        f"({SKETCHY_SITE}), then either put them in {archive_dir} under their own names (this "
        f"one as {archive_dir / name}) and re-run, or use the `local` source with "
        f"`acquisition.local.path` pointing at the archive(s) or the extracted folder."
    )


def md5_of(path: Path) -> str:
    """The MD5 of a file's content, in lower-case hexadecimal, read a chunk at a time."""
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
    if expected_md5 is not None and md5_of(part) == expected_md5:
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
        actual = md5_of(staging)
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
        actual = md5_of(destination)
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
