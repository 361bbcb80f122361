"""One file's bytes, unparsed: the member dataset of a ``PartitionedDataset`` over a folder of
user sketches, so that every file (images, but also the empty, damaged or misnamed ones)
reaches the node, which decodes it with the project's one preprocessing path and reports
what it could not use."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import fsspec
from kedro.io.core import AbstractDataset, get_filepath_str, get_protocol_and_path


class FileBytesDataset(AbstractDataset[bytes, bytes]):
    """``load`` returns the file's bytes; ``save`` writes bytes (any fsspec filesystem)."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        protocol, path = get_protocol_and_path(filepath)
        self._protocol = protocol
        self._filepath = PurePosixPath(path)
        self._fs = fsspec.filesystem(protocol)
        self.metadata = metadata

    def load(self) -> bytes:
        with self._fs.open(get_filepath_str(self._filepath, self._protocol), "rb") as file:
            return file.read()

    def save(self, data: bytes) -> None:
        with self._fs.open(get_filepath_str(self._filepath, self._protocol), "wb") as file:
            file.write(data)

    def _exists(self) -> bool:
        return self._fs.exists(get_filepath_str(self._filepath, self._protocol))

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "protocol": self._protocol}
