"""Atomic file and directory writes: a reader never sees a half-written result.

Everything is first written next to its destination (same filesystem, so the final
``os.replace``/``rename`` is atomic) and moved into place only once complete. A failure
leaves the destination as it was and removes the temporary copy. A process killed outright
(SIGKILL, power loss) cannot clean up: its temporaries carry its process id in their names
(``.<name>.<pid>.<random>.tmp``), and the next write to the same destination removes those
of processes that no longer run.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


def _prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporaries that killed processes left beside ``target``; return them.

    Temporaries of live processes (another run writing now) are left alone; so is anything
    that is not named like one of ours.
    """
    target = Path(target)
    if not target.parent.is_dir():
        return []
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.[^/]*\.(tmp|old)(\.[A-Za-z0-9]+)?$")
    removed = []
    for entry in target.parent.iterdir():
        match = pattern.match(entry.name)
        if not match or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        kept = entry / target.name
        if match.group(2) == "old" and kept.exists() and not target.exists():
            # killed between moving the old tree aside and moving the new one in
            os.replace(kept, target)
            logger.warning("Restored %s from an interrupted replacement", target)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    if removed:
        logger.info(
            "Removed %d temporary file(s) left by an interrupted run beside %s: %s",
            len(removed), target, ", ".join(p.name for p in removed),
        )  # fmt: skip
    return removed


@contextmanager
def atomic_file(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    ``suffix`` keeps the extension for writers that add one themselves (``np.savez``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    fd, tmp_name = tempfile.mkstemp(
        prefix=_prefix(target), suffix=f".tmp{suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``target``.

    An existing ``target`` is moved aside first and deleted only after the new tree is in
    place, so at every moment either the old or the new complete tree is at ``target``.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=".old", dir=target.parent))
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
