"""Atomic file and directory writes: a reader never sees a half-written result.

Everything is first written next to its destination (same filesystem, so the final
``os.replace``/``rename`` is atomic) and moved into place only once complete. A failure
leaves the destination as it was and removes the temporary copy.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    ``suffix`` keeps the extension for writers that add one themselves (``np.savez``).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent
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
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        old = None
        if target.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent)
            )
            os.replace(target, old / target.name)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
