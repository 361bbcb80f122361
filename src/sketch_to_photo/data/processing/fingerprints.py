"""Fingerprints of resumable work: what a :class:`~sketch_to_photo.datasets.ResumableShard`
is computed from (parts, input images' versions, project version), so a shard computed
before from the same is reused after a crash or in a later run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from sketch_to_photo import __version__
from sketch_to_photo.datasets import ResumableShard


def fingerprint(*parts: Any, versions: Iterable[str] = ()) -> str:
    """A digest of ``parts`` (JSON-able), of the input images' versions
    (:meth:`SketchyTree.version`) and of the project version: what a resumable shard is
    computed from."""
    digest = hashlib.sha256(json.dumps([__version__, *parts], sort_keys=True, default=str).encode())
    for version in versions:
        digest.update(f"{version}\n".encode())
    return digest.hexdigest()[:20]


def fingerprint_of(shard: Callable[[], Any]) -> str | None:
    """The fingerprint a segmented shard was computed from (None when it has none)."""
    if isinstance(shard, ResumableShard):  # in memory, not yet saved
        return shard.fingerprint
    return getattr(shard(), "fingerprint", None)
