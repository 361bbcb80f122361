"""The user's folder of sketches for batch inference: a ``PartitionedDataset`` that leaves out
hidden files and says what to do when there is nothing to turn into photos.

kedro-datasets' own error for an empty or missing folder is ``No partitions found in
'data/01_raw/user_sketches'``: true, but it does not say what belongs there or how to use
another folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from kedro.io.core import DatasetError
from kedro_datasets.partitions import PartitionedDataset


def is_hidden(partition: str) -> bool:
    """``.DS_Store``, ``.gitkeep``, ``ants/.thumbs``: files that are never sketches."""
    return PurePosixPath(partition).name.startswith(".")


class SketchFolderDataset(PartitionedDataset):
    """Every visible file of the folder (sub-folders included) as a load function.

    Example catalog entry::

        user_sketches:
          type: sketch_to_photo.datasets.SketchFolderDataset
          path: ${runtime_params:sketch_folder, data/01_raw/user_sketches}
          dataset: sketch_to_photo.datasets.FileBytesDataset
    """

    def _list_partitions(self) -> list[str]:
        return [path for path in super()._list_partitions() if not is_hidden(path)]

    def load(self) -> dict[str, Callable[[], Any]]:
        self._invalidate_caches()  # the folder may have changed since the last listing
        if not self._list_partitions():
            raise DatasetError(self.empty_folder_message())
        return super().load()

    def empty_folder_message(self) -> str:
        """What is wrong with the folder, what to put there and how to use another one."""
        folder = self._path if self._protocol != "file" else os.path.abspath(self._path)
        if self._filesystem.exists(self._normalized_path):
            state = "is empty (hidden files such as .gitkeep do not count)"
            copy = f"`cp my_sketches/*.png {folder}/`"
        else:
            state = "does not exist"
            copy = f"`mkdir -p {folder} && cp my_sketches/*.png {folder}/`"
        return (
            f"No sketches to turn into photos: the sketch folder {folder} {state}. "
            "Put the sketches there (PNG or JPEG files, any size, sub-folders are fine), "
            f"e.g. {copy}, or run on another folder: "
            '`kedro run --pipelines inference --params "sketch_folder=/path/to/sketches"`.'
        )
