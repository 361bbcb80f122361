"""Atomic file and directory writes: a reader never sees a half-written result.

Everything is first written next to its destination (same filesystem, so the final
``os.replace``/``rename`` is atomic) and moved into place only once complete. A failure
leaves the destination as it was and removes the temporary copy. A process killed outright
(SIGKILL, power loss) cannot clean up: its temporaries carry its process id in their names
(``.<name>.<pid>.<random>.tmp``), and the next write to the same destination removes those
of processes that no longer run.

Files and folders come out with the permissions a plain ``open``/``mkdir`` would give them
(``0o666``/``0o777`` less the umask: 0644/0755 under the usual umask 022), not the owner-only
0600/0700 of :func:`tempfile.mkstemp`/:func:`tempfile.mkdtemp`, so that another user (a
teammate, a web server, ``mlflow server``) can read the outputs as the umask allows.

A write that fails because the disk is full or the folder cannot be written raises
:class:`OutputNotWrittenError`, whose message names the file, the cause and what to do.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)


class OutputNotWrittenError(OSError):
    """An output could not be written (disk full, read-only or not permitted); what was at
    its path before is unchanged. ``cause`` and ``remedy`` are the message's parts, for a
    caller that words it for a whole dataset (:meth:`about`)."""

    def __init__(self, code: int, what: str, cause: str, kept: str, remedy: str) -> None:
        super().__init__(
            code, f"Could not write {what}: {cause}. {kept}. {remedy}, then run again."
        )
        self.cause = cause
        self.remedy = remedy

    def about(self, what: str, kept: str) -> OutputNotWrittenError:
        """The same problem, said of ``what`` with ``kept`` saying what is left as it was."""
        return OutputNotWrittenError(self.errno, what, self.cause, kept, self.remedy)

    def __str__(self) -> str:
        return self.strerror


_NOT_PERMITTED = (
    "this user ({user}) may not write to {folder}",
    "Give this user write access (chmod/chown), or point the catalog's path at a folder this "
    "user owns",
)
# errno -> (cause, remedy)
_FOLDER_PROBLEMS = {
    errno.ENOSPC: (
        "there is no space left on the disk that holds {folder} ({free} free)",
        "Free some space there, or point the catalog's path at a disk with room",
    ),
    errno.EDQUOT: (
        "the disk quota of this user is used up on {folder}",
        "Free some space there, or point the catalog's path at another disk",
    ),
    errno.EROFS: (
        "{folder} is on a read-only file system",
        "Run where the project folder is writable, or point the catalog's path at a writable "
        "folder",
    ),
    errno.EACCES: _NOT_PERMITTED,
    errno.EPERM: _NOT_PERMITTED,
}


def _folder_problem(error: BaseException) -> OSError | None:
    """The disk-full or not-writable ``OSError`` behind ``error`` (through its causes)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FOLDER_PROBLEMS:
            return current
        current = current.__cause__ or current.__context__
    return None


def _free_space(folder: Path) -> str:
    try:
        free = float(shutil.disk_usage(folder).free)
    except OSError:
        return "unknown"
    if free < 1024:
        return f"{free:.0f} bytes"
    for unit in ("KB", "MB", "GB"):
        free /= 1024
        if free < 1024 or unit == "GB":
            break
    return f"{free:.1f} {unit}"


def _user() -> str:
    try:
        import pwd  # noqa: PLC0415 - POSIX only

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError, AttributeError):
        return "the current user"


def not_written_error(
    target: Path, error: BaseException, existed: bool
) -> OutputNotWrittenError | None:
    """A clear :class:`OutputNotWrittenError` for a write of ``target`` that failed with
    ``error``, or None when the failure is not about the disk or the folder's permissions."""
    if isinstance(error, OutputNotWrittenError):
        return None
    problem = _folder_problem(error)
    if problem is None:
        return None
    folder = target.parent
    cause, remedy = _FOLDER_PROBLEMS[problem.errno]
    cause = cause.format(folder=folder, free=_free_space(folder), user=_user())
    kept = f"The previous {target.name} is unchanged" if existed else "Nothing was written"
    return OutputNotWrittenError(
        problem.errno, str(target), f"{cause} ({problem.strerror})", kept, remedy
    )


def _prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


def _new_temporary(target: Path, suffix: str, *, folder: bool = False) -> Path:
    """Create an empty file (or ``folder``) with a new name beside ``target``, named
    ``.<name>.<pid>.<random><suffix>``, with the mode a plain ``open``/``mkdir`` gives (the
    umask applies; ``mkstemp``/``mkdtemp`` would make it owner-only)."""
    for _ in range(tempfile.TMP_MAX):
        path = target.parent / f"{_prefix(target)}{secrets.token_hex(4)}{suffix}"
        try:
            if folder:
                os.mkdir(path, 0o777)
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "No free temporary name", str(target.parent))


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
    with _explained_write_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        tmp = _new_temporary(target, f".tmp{suffix}")
        try:
            yield tmp
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)


@contextmanager
def _explained_write_errors(target: Path) -> Iterator[None]:
    existed = target.exists()
    try:
        yield
    except Exception as error:
        clear = not_written_error(target, error, existed)
        if clear is None:
            raise
        raise clear from error


@contextmanager
def atomic_directory(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces ``target``.

    An existing ``target`` is moved aside first and deleted only after the new tree is in
    place, so at every moment either the old or the new complete tree is at ``target``.
    """
    target = Path(target)
    with _explained_write_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        tmp = _new_temporary(target, ".tmp", folder=True)
        try:
            yield tmp
            old = None
            if target.exists():
                old = Path(
                    tempfile.mkdtemp(prefix=_prefix(target), suffix=".old", dir=target.parent)
                )
                os.replace(target, old / target.name)
                try:
                    os.replace(tmp, target)
                except OSError:
                    os.replace(old / target.name, target)
                    shutil.rmtree(old, ignore_errors=True)
                    raise
            else:
                os.replace(tmp, target)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
