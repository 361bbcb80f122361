"""The official Sketchy archives, downloaded or supplied by hand, as one verified tree.

Each archive is downloaded (or reused) by
:func:`~sketch_to_photo.data.sketchy.download.download_file`; all of them are extracted by
:func:`~sketch_to_photo.data.sketchy.extraction.safe_extract_7z` into one temporary folder,
and that folder replaces the target only once it holds a complete Sketchy tree and a marker
file naming the archives it came from. A target whose marker names the same archives is used
as it is, without any network.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sketch_to_photo.data.sketchy.download import DownloadError, download_file, md5_of
from sketch_to_photo.data.sketchy.extraction import safe_extract_7z
from sketch_to_photo.data.sketchy.layout import INFO_ROOT, PHOTO_ROOT, SKETCH_ROOT, is_sketchy_tree
from sketch_to_photo.utils.atomic import atomic_directory

logger = logging.getLogger(__name__)

MARKER_NAME = ".sketchy-complete.json"


@dataclass(frozen=True)
class ArchiveSpec:
    """One archive to download: its file name, URL and expected MD5."""

    name: str
    url: str
    md5: str


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
        md5 = md5_of(archive)
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
