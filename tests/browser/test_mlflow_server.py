"""A real MLflow server on the project's store: the run and the registered models through its
REST API, and the UI's model page in Chromium."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.browser.drive import browser_page, free_port, mlflow_server_command, serve


@pytest.fixture(scope="module")
def mlflow_url(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` as the README starts it, on the store ``kedro run`` wrote."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    store = f"sqlite:///{trained_project.resolve() / 'mlflow.db'}"
    log = tmp_path_factory.mktemp("mlflow") / "mlflow.log"
    with serve(mlflow_server_command(store, port), trained_project, f"{url}/health", log):
        yield url


def api(url: str, path: str, method: str = "get", **body: object) -> dict:
    response = requests.request(method, f"{url}/api/2.0/mlflow/{path}", timeout=60, **body)
    assert response.status_code == 200, response.text
    return response.json()


def test_run_and_registered_models_through_the_rest_api(mlflow_url, trained_project):
    experiment = api(
        mlflow_url, "experiments/get-by-name", params={"experiment_name": "sketch_to_photo"}
    )
    experiment_id = experiment["experiment"]["experiment_id"]
    runs = api(mlflow_url, "runs/search", "post", json={"experiment_ids": [experiment_id]})["runs"]
    assert len(runs) == 1
    (run,) = runs
    assert run["info"]["status"] == "FINISHED"
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    # the figures the run's reports hold, as the server reads them from the store
    reports = trained_project / "data" / "08_reporting"
    evaluation = json.loads((reports / "evaluation_metrics.json").read_text())
    classifier = json.loads((reports / "sketch_classifier_metrics.json").read_text())
    assert metrics["test_l1"] == pytest.approx(evaluation["overall"]["model"]["l1"])
    assert metrics["classifier_test_accuracy"] == pytest.approx(classifier["accuracy"])
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["training.image_size"] == "32"

    for name in ("sketch_to_photo", "sketch_category"):
        champion = api(
            mlflow_url, "registered-models/alias", params={"name": name, "alias": "champion"}
        )["model_version"]
        assert champion["version"] == "1"
        assert champion["run_id"] == run["info"]["run_id"]  # registered from that run
        assert champion["status"] == "READY"


def test_the_ui_shows_the_registered_model(mlflow_url, screenshot_dir):
    with browser_page() as page:
        page.goto(f"{mlflow_url}/#/models/sketch_to_photo")
        page.get_by_text("champion").first.wait_for()
        page.get_by_text("Version 1").first.wait_for()
        page.screenshot(path=screenshot_dir / "mlflow_model.png", full_page=True)
