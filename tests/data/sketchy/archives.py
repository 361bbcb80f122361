"""Archives and helpers shared by the tests of the Sketchy download, extraction and acquisition:
small real 7z files with the layout of the official ones."""

from __future__ import annotations

import hashlib
import random
import socket
from dataclasses import dataclass
from pathlib import Path

import py7zr
import pytest

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


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
