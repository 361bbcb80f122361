"""AtomicDataset: kedro-datasets' file datasets saved whole or not at all."""

from __future__ import annotations

from pathlib import Path

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from kedro.io.core import DatasetError  # noqa: E402
from kedro_datasets.json import JSONDataset  # noqa: E402
from kedro_mlflow.io.artifacts import MlflowArtifactDataset  # noqa: E402
from PIL import Image  # noqa: E402

from sketch_to_photo.datasets import AtomicDataset  # noqa: E402
from tests.conftest import fill_disk, mlflow_store, mode, small_disk, umask  # noqa: E402


def _json(path: Path) -> AtomicDataset:
    return AtomicDataset(dataset={"type": "json.JSONDataset", "filepath": str(path)})


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_failed_save_leaves_the_previous_file_where_the_plain_dataset_truncates(
    tmp_path: Path,
) -> None:
    unserialisable = {"ok": 1, "bad": {1, 2}}  # json.dump writes the start first

    plain = JSONDataset(filepath=str(tmp_path / "plain.json"))
    plain.save({"run": 1})
    with pytest.raises(DatasetError):
        plain.save(unserialisable)
    truncated = (tmp_path / "plain.json").read_text()  # why the wrapper exists
    assert truncated.startswith("{") and '"run"' not in truncated

    atomic = _json(tmp_path / "atomic.json")
    atomic.save({"run": 1})
    with pytest.raises(DatasetError, match="not JSON serializable"):
        atomic.save(unserialisable)
    assert atomic.load() == {"run": 1}
    assert _hidden(tmp_path) == []

    atomic.save({"run": 2})
    assert atomic.load() == {"run": 2}
    assert atomic.exists()


def test_writers_that_go_by_the_extension_still_work(tmp_path: Path) -> None:
    image = AtomicDataset(
        dataset={"type": "pillow.ImageDataset", "filepath": str(tmp_path / "grid.jpg")}
    )
    image.save(Image.new("RGB", (8, 4), "red"))
    assert Image.open(tmp_path / "grid.jpg").format == "JPEG"  # from the extension

    figure, axes = plt.subplots()
    axes.plot([0, 1], [1, 0])
    plot = AtomicDataset(
        dataset={"type": "matplotlib.MatplotlibDataset", "filepath": str(tmp_path / "fig.png")}
    )
    plot.save(figure)
    plt.close(figure)
    assert Image.open(tmp_path / "fig.png").size == (640, 480)

    table = AtomicDataset(
        dataset={
            "type": "pandas.CSVDataset",
            "filepath": str(tmp_path / "t.csv"),
            "save_args": {"index": False},
        }
    )
    table.save(pd.DataFrame({"a": [1, 2]}))
    pd.testing.assert_frame_equal(table.load(), pd.DataFrame({"a": [1, 2]}))

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    keras_file = AtomicDataset(
        dataset={
            "type": "tensorflow.TensorFlowModelDataset",
            "filepath": str(tmp_path / "model.keras"),
        }
    )
    keras_file.save(model)
    loaded = keras_file.load()
    np.testing.assert_allclose(loaded.get_weights()[0], model.get_weights()[0])
    assert _hidden(tmp_path) == []


def test_kedro_mlflow_logs_the_file_it_saved(tmp_path: Path) -> None:
    dataset = MlflowArtifactDataset(
        dataset={
            "type": "sketch_to_photo.datasets.AtomicDataset",
            "dataset": {"type": "json.JSONDataset", "filepath": str(tmp_path / "report.json")},
        }
    )
    with mlflow_store(tmp_path, "atomic") as client, mlflow.start_run() as run:
        dataset.save({"test_l1": 0.1})
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["report.json"]
    assert dataset.load() == {"test_l1": 0.1}


def test_a_full_disk_gives_the_clear_error_and_keeps_the_table(tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk", 256) as disk:
        table = AtomicDataset(
            dataset={"type": "pandas.CSVDataset", "filepath": str(disk / "index.csv")}
        )
        table.save(pd.DataFrame({"a": range(3)}))
        before = (disk / "index.csv").read_bytes()
        fill_disk(disk, leave_bytes=4096)
        with pytest.raises(DatasetError, match="no space left on the disk") as raised:
            table.save(pd.DataFrame({"a": range(100_000)}))
        assert "The previous index.csv is unchanged" in str(raised.value)
        assert (disk / "index.csv").read_bytes() == before
        assert _hidden(disk) == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"type": "json.JSONDataset", "filepath": "s3://bucket/x.json"}, "local files only"),
        ({"type": "MemoryDataset"}, "was given none"),
    ],
)
def test_what_it_cannot_wrap_is_refused_with_a_reason(config: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        AtomicDataset(dataset=config)


@pytest.mark.parametrize(
    ("mask", "expected"),
    [
        pytest.param(0o022, 0o644, id="umask022"),
        pytest.param(0o027, 0o640, id="umask027"),
    ],
)
def test_saved_files_get_the_mode_of_a_plain_write(
    tmp_path: Path, mask: int, expected: int
) -> None:
    report = tmp_path / "08_reporting" / "evaluation_metrics.json"
    model_file = tmp_path / "06_models" / "generator.keras"
    with umask(mask):
        _json(report).save({"l1": 0.1})
        AtomicDataset(
            dataset={"type": "tensorflow.TensorFlowModelDataset", "filepath": str(model_file)}
        ).save(keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]))
        _json(report).save({"l1": 0.2})  # replacing keeps it readable as well

    # a teammate, a web server or `mlflow server` running as another user can read them
    assert mode(report) == expected
    assert mode(model_file) == expected
