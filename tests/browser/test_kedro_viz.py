"""kedro-viz on the trained project, in Chromium: every pipeline shows its nodes, by name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.browser.drive import (
    browser_page,
    free_port,
    kedro_viz_command,
    kedro_viz_screenshot,
    open_kedro_viz,
    serve,
)

PIPELINES = {"__default__", "data_acquisition", "data_processing", "training", "evaluation", "sketch_classifier", "inference"}  # fmt: skip
LAYERS = ["raw", "intermediate", "primary", "model_input", "models", "reporting", "registry"]


@pytest.fixture(scope="module")
def viz_url(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("kedro_viz") / "kedro_viz.log"
    with serve(kedro_viz_command(port), trained_project, f"{url}/api/main", log):
        yield url


def test_every_pipeline_shows_its_nodes_in_the_browser(viz_url, screenshot_dir):
    graph = requests.get(f"{viz_url}/api/main", timeout=60).json()
    assert {p["id"] for p in graph["pipelines"]} == PIPELINES
    assert graph["layers"] == LAYERS  # raw data at the top, the registered model at the bottom
    with browser_page(width=1800, height=900) as page:
        for pipeline in sorted(PIPELINES):
            expected = requests.get(f"{viz_url}/api/pipelines/{pipeline}", timeout=60).json()
            names = {n["name"] for n in expected["nodes"] if n["type"] in {"task", "data"}}
            shown = set(open_kedro_viz(page, viz_url, pipeline, expect=names))
            assert names <= shown, f"{pipeline}: not shown {sorted(names - shown)}"
            if pipeline == "__default__":
                assert {
                    "acquire_sketchy",
                    "segment_photos",
                    "train_generator",
                    "register_generator",
                } <= shown
                layer_names = page.locator(".pipeline-layer-name").all_text_contents()
                assert [name.strip() for name in layer_names] == LAYERS
                kedro_viz_screenshot(page, screenshot_dir / "kedro_viz.png")
