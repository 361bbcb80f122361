"""``kedro run --pipelines inference`` end to end: a folder of sketches (made-up, and again
with real ones added: marked ``sample``) and broken files through the model the default run
registered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.io.core import DatasetError
from PIL import Image

from sketch_to_photo.pipeline_registry import ON_REQUEST, register_pipelines
from sketch_to_photo.pipelines import inference
from tests.conftest import MADE_AND_REAL, real_sketch_files, run_from_project
from tests.mlops.test_service import sketch_png
from tests.pipelines.inference.test_nodes import REASONS, broken_files


@pytest.fixture
def served_project(trained_project: Path, tmp_path: Path) -> Path:
    """A copy of the trained project (its registry has sketch_to_photo_service@champion)."""
    root = tmp_path / "project"
    shutil.copytree(trained_project, root)
    return root


@pytest.fixture(params=MADE_AND_REAL)
def sketch_folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    folder = tmp_path / "my sketches"
    (folder / "more").mkdir(parents=True)
    (folder / "drawn.png").write_bytes(sketch_png())
    (folder / "more" / "drawn.jpg").write_bytes(sketch_png(fmt="JPEG"))
    for name, data in broken_files().items():
        (folder / name).write_bytes(data)
    if request.param == "real":
        for path in real_sketch_files(request, 4):
            shutil.copy(path, folder / path.name)
    return folder


def test_inference_is_not_part_of_the_default_run():
    configure_project("sketch_to_photo")  # find_pipelines needs the package configured
    default = {node.name for node in register_pipelines()["__default__"].nodes}
    inference_nodes = {node.name for node in inference.create_pipeline().nodes}
    assert "inference" in ON_REQUEST and {"register_service", "generate_photos"} & default == {
        "register_service"
    }
    assert not inference_nodes & default


def test_a_folder_becomes_photos_a_table_and_a_contact_sheet(served_project, sketch_folder):
    folder = sketch_folder
    output = served_project / "data" / "07_model_output" / "generated"
    output.mkdir(parents=True, exist_ok=True)
    (output / "stale.png").write_bytes(sketch_png())  # from an earlier run: must go

    run_from_project(served_project, ["inference"], {"sketch_folder": str(folder)})

    table = pd.read_csv(served_project / "data" / "08_reporting" / "inference_results.csv")
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert sorted(table["input"]) == files
    skipped = table.set_index("input").loc[list(REASONS)]
    assert (skipped["status"] == "skipped").all()
    for name, reason in REASONS.items():
        assert reason in skipped.loc[name, "reason"]
    made = table[table["status"] == "ok"]
    assert len(made) == len(files) - len(REASONS) >= 2
    assert made["model"].str.fullmatch(r"sketch_to_photo_service v1 \(@champion\)").all()
    assert made["generator"].eq("sketch_to_photo v1").all()
    photos = sorted(str(p.relative_to(output)) for p in output.rglob("*.png"))
    assert photos == sorted(f"{name}.png" for name in made["output"])  # and no stale.png
    for name in made["output"]:
        with Image.open(output / f"{name}.png") as photo:
            assert photo.size == (32, 32)  # the tiny run's model size
    sheet = served_project / "data" / "08_reporting" / "inference_contact_sheet.png"
    with Image.open(sheet) as image:
        assert image.width > 4 * 2 * 128 and image.height > 2 * 128


def test_an_unknown_version_says_what_to_do(served_project, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.png").write_bytes(sketch_png())
    with pytest.raises(DatasetError, match=r"No registered model sketch_to_photo_service v99"):
        run_from_project(served_project, ["inference"], {"sketch_folder": str(folder), "model": 99})


def test_without_a_registered_model_the_message_says_run_kedro_run_first(project, tmp_path):
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.png").write_bytes(sketch_png())
    with pytest.raises(
        DatasetError, match=r"sketch_to_photo_service@champion.*Run `kedro run` first"
    ):
        run_from_project(project, ["inference"], {"sketch_folder": str(folder)})


def test_an_empty_sketch_folder_says_which_folder_and_what_to_put_there(project):
    # the default folder: a fresh project has none yet (a checkout has it with a .gitkeep)
    folder = project / "data" / "01_raw" / "user_sketches"
    with pytest.raises(DatasetError, match=f"the sketch folder {folder} does not exist"):
        run_from_project(project, ["inference"], {})
    folder.mkdir(parents=True)
    (folder / ".gitkeep").write_bytes(b"")
    with pytest.raises(DatasetError) as raised:
        run_from_project(project, ["inference"], {})
    assert f"the sketch folder {folder} is empty" in str(raised.value)
    assert "Put the sketches there (PNG or JPEG files" in str(raised.value)
