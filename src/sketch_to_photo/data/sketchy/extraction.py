"""Safe extraction of a 7z archive: every member is checked before anything is written."""

from __future__ import annotations

import logging
import lzma
import re
import stat
from pathlib import Path
from typing import Any

import py7zr
import py7zr.exceptions

from sketch_to_photo.data.sketchy.download import DownloadError

logger = logging.getLogger(__name__)

_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


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
