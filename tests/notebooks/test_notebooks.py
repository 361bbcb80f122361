"""The notebooks run top to bottom, through Kedro's Jupyter integration, on a project after a
(tiny) default ``kedro run``."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_an_exploration_and_a_results_notebook():
    assert [n.name for n in NOTEBOOKS] == ["01_data_exploration.ipynb", "02_results.ipynb"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(notebook: Path, trained_project: Path):
    folder = trained_project / "notebooks"
    folder.mkdir(exist_ok=True)
    copy = Path(shutil.copy(notebook, folder))
    book = nbformat.read(copy, as_version=4)
    assert "%load_ext kedro.ipython" in book.cells[1].source  # Kedro's Jupyter integration
    # Run where a user would: in notebooks/, so Kedro finds the project above it.
    NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    errors = [
        o
        for cell in book.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == "error"
    ]
    assert not errors
    images = [
        o
        for cell in book.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3  # the plots and grids were drawn
    nbformat.write(book, copy)  # executed copy, to look at when a test fails
