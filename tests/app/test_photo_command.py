"""``sketch-to-photo photo``: one sketch file -> one photo file, with real registered models in
real MLflow stores (a tiny class-aware generator and a fixed sketch classifier)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient
from PIL import Image

from sketch_to_photo.app import photo_command
from sketch_to_photo.mlops.model_registry import log_and_register, promote_if_better
from sketch_to_photo.prediction.preprocessing import generate_photo
from tests.conftest import mlflow_store
from tests.prediction.test_photograph import (
    CATEGORIES,
    class_aware_generator,
    fixed_classifier,
    teapot,
)

GENERATOR_METADATA = {"image_size": 32, "categories": CATEGORIES, "class_aware": True}
# the classifier knows one more category, in another order; it always answers index 2: "ant"
CLASSIFIER_CATEGORIES = ["zebra", "teddy_bear", "ant", "alarm_clock"]


def register_models(folder: Path, with_classifier: bool) -> str:
    """A store in ``folder`` with ``sketch_to_photo`` v1 as champion (and ``sketch_category``
    v1); returns its URI."""
    with mlflow_store(folder, "cli_test") as client:
        with mlflow.start_run():
            version = log_and_register(
                class_aware_generator(), registered_name="sketch_to_photo",
                artifact_name="generator", metadata=GENERATOR_METADATA,
            )  # fmt: skip
            if with_classifier:
                log_and_register(
                    fixed_classifier(answer=2), registered_name="sketch_category",
                    artifact_name="classifier",
                    metadata={"image_size": 32, "categories": CLASSIFIER_CATEGORIES},
                )  # fmt: skip
        promote_if_better("sketch_to_photo", version, "test_l1", 0.1, greater_is_better=False,
                          client=client)  # fmt: skip
    return f"sqlite:///{folder / 'mlflow.db'}"


@pytest.fixture(scope="module")
def generator_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return register_models(tmp_path_factory.mktemp("generator_only"), with_classifier=False)


@pytest.fixture(scope="module")
def store_with_classifier(tmp_path_factory: pytest.TempPathFactory) -> str:
    return register_models(tmp_path_factory.mktemp("with_classifier"), with_classifier=True)


@pytest.fixture
def sketch_file(tmp_path: Path) -> Path:
    path = tmp_path / "my sketch.png"
    Image.fromarray(teapot()).save(path)
    return path


def photo(*argv: str | Path) -> int:
    return photo_command.main([str(a) for a in argv])


def test_the_photo_is_the_python_apis_for_the_category_named(
    generator_store, sketch_file, tmp_path, capsys
):
    out = tmp_path / "photos" / "ant.png"  # the folder is made
    assert (
        photo(sketch_file, "--category", "ant", "-o", out, "--tracking-uri", generator_store) == 0
    )

    printed = capsys.readouterr().out
    assert f"Wrote {out} (32x32 pixels) with sketch_to_photo v1 (champion)" in printed
    assert "category ant (picked)" in printed
    mlflow.set_tracking_uri(generator_store)
    uri = "models:/sketch_to_photo@champion"
    expected = generate_photo(
        mlflow.keras.load_model(uri), sketch_file, category="ant", categories=CATEGORIES
    )
    assert np.array_equal(np.asarray(Image.open(out)), expected)

    # a name as the demo shows it ("teddy bear") is the category teddy_bear, another photo
    bear = tmp_path / "bear.png"
    assert photo(sketch_file, "--category", "teddy bear", "-o", bear,
                 "--tracking-uri", generator_store) == 0  # fmt: skip
    assert "category teddy bear (picked)" in capsys.readouterr().out
    assert not np.array_equal(np.asarray(Image.open(bear)), expected)


def test_without_a_category_the_sketch_classifier_guesses_it(
    store_with_classifier, sketch_file, tmp_path, capsys
):
    out = tmp_path / "guessed.png"
    assert photo(sketch_file, "-o", out, "--tracking-uri", store_with_classifier) == 0
    printed = capsys.readouterr().out
    assert "category ant (the classifier's guess, 9" in printed  # 90-something percent
    assert Image.open(out).size == (32, 32)


def test_without_a_category_or_a_classifier_the_error_lists_the_categories(
    generator_store, sketch_file, tmp_path, capsys
):
    out = tmp_path / "photo.png"
    assert photo(sketch_file, "-o", out, "--tracking-uri", generator_store) == 1
    error = capsys.readouterr().err
    assert "this model draws the category it is given: pick one" in error
    assert "Give --category with one of: alarm_clock, ant, teddy_bear." in error
    assert not out.exists()


def test_an_unknown_category_name_lists_the_known_ones(generator_store, sketch_file, capsys):
    assert photo(sketch_file, "--category", "teapot", "--tracking-uri", generator_store) == 1
    error = capsys.readouterr().err
    assert (
        "'teapot' is not one of this model's categories: ['alarm_clock', 'ant', 'teddy_bear']"
        in error
    )


def _blank(path: Path) -> Path:
    Image.new("RGB", (64, 64), "white").save(path)
    return path


@pytest.mark.parametrize(
    ("make", "output", "message"),
    [
        (lambda d: d / "missing.png", "p.png", "missing.png: no such file"),
        (lambda d: d, "p.png", "is a folder, not a sketch file"),
        (lambda d: (d / "notes.png").write_text("hello") and d / "notes.png", "p.png",
         "notes.png is not an image file"),
        (lambda d: _blank(d / "white.png"), "p.png", "white.png: the sketch is empty"),
        ("sketch", "photo.xyz", "photo.xyz: unknown image type '.xyz'"),
        ("sketch", "same", "is the sketch itself"),
    ],
)  # fmt: skip
def test_a_bad_input_or_output_is_refused_before_any_store_is_read(
    make, output, message, sketch_file, tmp_path, capsys
):
    sketch = sketch_file if make == "sketch" else make(tmp_path)
    out = sketch_file if output == "same" else tmp_path / output
    no_store = f"sqlite:///{tmp_path / 'absent.db'}"  # would be its own error if reached
    assert photo(sketch, "-o", out, "--tracking-uri", no_store) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "absent.db").exists()


def test_a_missing_or_empty_store_says_run_kedro_run_first(sketch_file, tmp_path, capsys):
    absent = f"sqlite:///{tmp_path / 'absent.db'}"
    assert photo(sketch_file, "--tracking-uri", absent) == 1
    assert f"No MLflow store at {absent} (no such file). Run `kedro run` first" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "absent.db").exists()  # not created by the attempt

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    MlflowClient(empty).search_experiments()  # a store with its tables and no model
    assert photo(sketch_file, "--tracking-uri", empty) == 1
    error = capsys.readouterr().err
    assert (
        f"No registered sketch_to_photo model in the MLflow store {empty}. Run `kedro run`" in error
    )


def test_the_projects_store_and_a_version_are_found_from_a_project_folder(
    project, sketch_file, monkeypatch, capsys
):
    # the store conf/base/mlflow.yml names: <project>/mlflow.db
    register_models(project, with_classifier=False)
    (project / "data").mkdir()
    monkeypatch.chdir(project / "data")  # anywhere inside the project

    assert photo(sketch_file, "--category", "ant", "--model", "1") == 0
    assert (project / "data" / "my sketch_photo.png").is_file()  # the default output name
    assert "with sketch_to_photo v1 (champion)" in capsys.readouterr().out
    assert photo(sketch_file, "--category", "ant", "--model-uri", "models:/sketch_to_photo/2") == 1
    error = capsys.readouterr().err
    assert "sketch_to_photo has no version 2 in the MLflow store sqlite:///" in error
    assert "its versions: v1 (champion). Pick one with --model <version>" in error


def test_outside_a_project_without_a_store_the_error_says_where_to_run(
    sketch_file, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    assert photo(sketch_file) == 1
    error = capsys.readouterr().err
    assert f"{tmp_path} is not inside a Kedro project" in error and "--tracking-uri" in error
