"""The MLflow UI in Chromium on the tiny default run's store, as a user comparing runs meets it:
the address ``kedro run`` logs opens on the training runs, where the run is listed by its name
with its dataset and the headline columns can be added; each registered version's page shows
its model card."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mlflow import MlflowClient

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.mlops.tracking import runs_list_url, shards_digest
from tests.browser.drive import (
    MLFLOW_ASSISTANT_CLOSED,
    add_run_columns,
    browser_page,
    free_port,
    mlflow_run_rows,
    mlflow_server_command,
    serve,
)

CATEGORIES = "car_(sedan)+strawberry+teapot+teddy_bear"
RUN_NAME = f"default 32px {CATEGORIES}"


@pytest.fixture(scope="module")
def mlflow_ui(
    trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, MlflowClient]]:
    """``mlflow server`` on the store ``kedro run`` wrote: its URL, and a client of the store."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = f"sqlite:///{trained_project.resolve() / 'mlflow.db'}"
    log = tmp_path_factory.mktemp("mlflow_ui") / "mlflow.log"
    with serve(mlflow_server_command(store, port), trained_project, f"{url}/health", log):
        yield url, MlflowClient(store, store)


def test_the_runs_list_shows_the_run_by_name_with_its_dataset(
    mlflow_ui, trained_project, screenshot_dir
):
    url, client = mlflow_ui
    experiment = client.get_experiment_by_name("sketch_to_photo")
    shards = NpzShardsDataset(path=str(trained_project / "data/05_model_input/pairs")).load()
    dataset = f"synthetic pairs {CATEGORIES} ({shards_digest(shards)})"
    with browser_page() as page:
        page.add_init_script(MLFLOW_ASSISTANT_CLOSED)  # a first visit otherwise: GenAI view
        page.goto(runs_list_url(url, experiment.experiment_id))
        page.get_by_role("columnheader", name="Run Name").first.wait_for()  # not the GenAI overview
        assert "/runs" in page.url
        mlflow_run_rows(page).filter(has_text=RUN_NAME).first.wait_for()
        page.get_by_text(dataset).first.wait_for()  # the Dataset column: name (digest)
        add_run_columns(page, ["headline/faithfulness", "headline/faithfulness_mean_photo"])
        page.screenshot(path=screenshot_dir / "mlflow_runs.png")
        page.get_by_text(dataset).first.click()  # the dataset's drawer: where the pairs are
        page.get_by_text(str(trained_project / "data/05_model_input/pairs")).first.wait_for()


def test_each_registered_versions_page_shows_its_model_card(mlflow_ui, screenshot_dir):
    url, _ = mlflow_ui
    cards = {
        "sketch_to_photo": ("Generator v1, ", "Pairs", "Faithfulness"),
        "sketch_category": ("Sketch classifier v1, ", "Sketches", "Test accuracy"),
        "sketch_to_photo_service": ("and the sketch classifier, both exported to ONNX", "Pairs", "Shape"),
    }  # fmt: skip
    with browser_page() as page:
        page.add_init_script(MLFLOW_ASSISTANT_CLOSED)
        for name, texts in cards.items():
            page.goto(f"{url}/#/models/{name}/versions/1")
            for text in (*texts, "Training data", "synthetic drawings and renderings"):
                page.get_by_text(text).first.wait_for()
            page.screenshot(path=screenshot_dir / f"mlflow_{name}_v1.png", full_page=True)
