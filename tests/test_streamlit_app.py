"""The Streamlit page, run with Streamlit's AppTest on a temporary copy of the project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DATA_PIPELINES, PROJECT_ROOT, SMALL_RUN, run


@pytest.fixture
def app_project(project: Path) -> Path:
    shutil.copy(PROJECT_ROOT / "streamlit_app.py", project)
    return project


def test_without_data_the_page_says_what_to_run(app_project):
    app = AppTest.from_file(str(app_project / "streamlit_app.py"), default_timeout=60).run()
    assert not app.exception
    assert any("kedro run" in info.value for info in app.info)


def test_with_data_the_page_shows_counts_and_the_grid(app_project):
    run(app_project, DATA_PIPELINES, SMALL_RUN)
    app = AppTest.from_file(str(app_project / "streamlit_app.py"), default_timeout=60).run()
    assert not app.exception
    metrics = {metric.label: metric.value for metric in app.metric}
    manifest_pairs = int(metrics["pairs"])
    assert manifest_pairs > 0 and int(metrics["sketches seen"]) >= manifest_pairs
    table = app.dataframe[0].value
    assert table["pairs"].sum() == manifest_pairs
    assert len(app.get("image")) == 1
