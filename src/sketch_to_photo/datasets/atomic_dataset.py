"""Any local file dataset, saved atomically: its file is either the previous one or the new
one, whole, whatever happens during the save (disk full, read-only folder, a kill).

kedro-datasets' file datasets open their file for writing in place: a save that fails part
way (no space left, for example) leaves a truncated file where the last good one was. This
wrapper lets the wrapped dataset write a temporary file beside the target (same folder, same
extension, so writers that go by the extension still work) and moves it over the target only
once the save has succeeded; see :mod:`sketch_to_photo.utils.atomic`. A save that fails
because the disk is full or the folder cannot be written raises
:class:`~sketch_to_photo.utils.atomic.OutputNotWrittenError`, which says what to do.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import (
    AbstractDataset,
    DatasetError,
    get_protocol_and_path,
    parse_dataset_definition,
)

from sketch_to_photo.utils.atomic import atomic_file


class AtomicDataset(AbstractDataset[Any, Any]):
    """Wraps a file dataset (any with a local ``filepath``) so that saving it is atomic.

    Example catalog entry::

        evaluation_report:
          type: sketch_to_photo.datasets.AtomicDataset
          dataset:
            type: json.JSONDataset
            filepath: data/08_reporting/evaluation_metrics.json

    It can itself be wrapped, for example by kedro-mlflow's ``MlflowArtifactDataset``, which
    logs the file at ``_filepath`` once saved.
    """

    def __init__(self, dataset: str | dict[str, Any], metadata: dict[str, Any] | None = None):
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        self._dataset_class, self._dataset_args = parse_dataset_definition(config)
        filepath = self._dataset_args.get("filepath")
        if not filepath:
            raise DatasetError(
                f"AtomicDataset wraps datasets with a 'filepath'; {config.get('type')!r} "
                "was given none."
            )
        protocol, path = get_protocol_and_path(str(filepath))
        if protocol != "file":
            raise DatasetError(
                f"AtomicDataset writes local files only; {filepath!r} is on '{protocol}'. "
                "Use the dataset without the wrapper there: object stores replace whole "
                "objects on their own."
            )
        self._filepath = PurePosixPath(path)  # read by MlflowArtifactDataset after a save
        self._dataset = self._dataset_class(**self._dataset_args)
        self.metadata = metadata

    def load(self) -> Any:
        return self._dataset.load()

    def save(self, data: Any) -> None:
        target = Path(self._filepath)
        with atomic_file(target, suffix="".join(target.suffixes[-1:])) as partial:
            self._dataset_class(**{**self._dataset_args, "filepath": str(partial)}).save(data)
        self._dataset.release()  # forget anything cached from the previous file

    def _exists(self) -> bool:
        return self._dataset.exists()

    def _release(self) -> None:
        self._dataset.release()

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset_class.__name__, "filepath": str(self._filepath)}
