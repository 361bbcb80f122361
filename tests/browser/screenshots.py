"""Make the README's screenshots from a project after ``kedro run``:

    python -m tests.browser.screenshots --project . --out docs/images

Starts the Streamlit demo and kedro-viz on 127.0.0.1, drives them in Chromium exactly as the
browser tests do, and writes demo_draw.png, demo_test_split.png and kedro_viz.png.

    python -m tests.browser.screenshots --project . --out docs/images --only mlflow

serves the project's MLflow store with ``mlflow server`` and writes mlflow_runs.png (the runs
list with the headline columns), mlflow_compare.png (the two newest variants of the newest
``python -m sketch_to_photo.experiments`` run compared; skipped without one) and
mlflow_version.png (the newest ``sketch_to_photo`` version's page with its model card).

    python -m tests.browser.screenshots --project . --out docs/images --only ant

draws an ant instead (for a model trained on real Sketchy ants, e.g. the cpu_real recipe) and
writes only demo_draw_ant.png: the test split's pictures are Sketchy's and cannot be committed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from tests.browser.drive import (
    MLFLOW_ASSISTANT_CLOSED,
    MLFLOW_MODEL_TRAINING_VIEW,
    add_run_columns,
    browser_page,
    chromium_missing,
    compare_child_runs,
    draw_ant,
    draw_teapot,
    fit_columns,
    free_port,
    kedro_viz_command,
    kedro_viz_screenshot,
    mlflow_server_command,
    open_kedro_viz,
    serve,
    streamlit_command,
    toggle_run_columns,
    wait_for_idle,
    wait_for_result,
)

# The runs-list columns the README suggests: category faithfulness, stroke recall, L1 and the
# classifier's accuracy, with the mean photo's beside them.
HEADLINE_COLUMNS = [
    "headline/faithfulness", "headline/faithfulness_mean_photo", "headline/stroke_recall",
    "headline/l1", "headline/l1_mean_photo", "headline/classifier_accuracy",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument(
        "--only", choices=["ant", "viz", "mlflow"],
        help="ant: draw an ant and save only that picture; viz: only kedro_viz.png; mlflow: "
        "only the MLflow UI's pictures",
    )  # fmt: skip
    args = parser.parse_args()
    if reason := chromium_missing():
        raise SystemExit(reason)
    project, out = args.project.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="screenshots-"))
    if args.only in (None, "ant"):
        demo_screenshots(project, out, logs, ant_only=args.only == "ant")
    if args.only in (None, "viz"):
        viz_screenshot(project, out, logs)
    if args.only in (None, "mlflow"):
        mlflow_screenshots(project, out, logs)
    shutil.rmtree(logs, ignore_errors=True)
    print(f"screenshots in {out}")


def demo_screenshots(project: Path, out: Path, logs: Path, ant_only: bool) -> None:
    port = free_port()
    with serve(
        streamlit_command(port), project, f"http://127.0.0.1:{port}/_stcore/health", logs / "st.log"
    ):
        with browser_page(width=1400, height=900) as page:
            page.goto(f"http://127.0.0.1:{port}")
            page.get_by_text("Draw a sketch on the canvas").wait_for()
            if ant_only:
                draw_ant(page)
                print(f"drawn ant: {wait_for_result(page):.0f} ms")
                page.screenshot(path=out / "demo_draw_ant.png", full_page=True)
                return
            draw_teapot(page)
            print(f"drawn sketch: {wait_for_result(page):.0f} ms")
            page.screenshot(path=out / "demo_draw.png")
            page.get_by_text("Test split", exact=True).click()
            page.get_by_text("Real photo", exact=True).wait_for(timeout=120_000)
            wait_for_idle(page)
            # pick a teddy bear in the test-sketch box (a class-aware model adds a category box)
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Test sketch").click()
            page.keyboard.type("teddy_bear")  # the list filters as one types
            page.get_by_role("option").first.click()
            wait_for_idle(page)
            print(f"test sketch: {wait_for_result(page):.0f} ms")
            page.screenshot(path=out / "demo_test_split.png")


def viz_screenshot(project: Path, out: Path, logs: Path) -> None:
    port = free_port()
    with serve(
        kedro_viz_command(port), project, f"http://127.0.0.1:{port}/api/main", logs / "viz.log"
    ):
        with browser_page(width=1800, height=900) as page:
            open_kedro_viz(page, f"http://127.0.0.1:{port}")
            kedro_viz_screenshot(page, out / "kedro_viz.png")


def mlflow_screenshots(project: Path, out: Path, logs: Path) -> None:
    from mlflow import MlflowClient  # noqa: PLC0415  (only this part needs it)

    store = f"sqlite:///{project / 'mlflow.db'}"
    client = MlflowClient(store, store)
    experiment = client.get_experiment_by_name("sketch_to_photo")
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"])
    harness = [r for r in runs if r.data.tags.get("harness") == "experiments"]
    parent = next((r for r in harness if "mlflow.parentRunId" not in r.data.tags), None)
    children = [r for r in harness if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id] if parent else []  # fmt: skip
    version = max(client.search_model_versions("name = 'sketch_to_photo'"), key=lambda v: int(v.version))  # fmt: skip
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        serve(mlflow_server_command(store, port), project, f"{url}/health", logs / "mlflow.log"),
        browser_page(width=1900, height=560) as page,
    ):
        page.add_init_script(MLFLOW_ASSISTANT_CLOSED + MLFLOW_MODEL_TRAINING_VIEW)
        runs_list = (
            f"{url}/#/experiments/{experiment.experiment_id}/runs?workflowType=machine_learning"
        )
        page.goto(runs_list)
        page.get_by_text("Dataset", exact=True).first.wait_for()
        toggle_run_columns(page, ["Source", "Models"])  # room for the metrics
        add_run_columns(page, HEADLINE_COLUMNS)
        fit_columns(page, ["attributes.`Run Name`", *(f"metrics.`{c}`" for c in HEADLINE_COLUMNS)])
        page.mouse.move(5, 5)
        page.wait_for_timeout(1000)
        page.screenshot(path=out / "mlflow_runs.png")
        if len(children) >= 2:
            page.set_viewport_size({"width": 1300, "height": 1000})
            names = [r.info.run_name for r in children[:2]]
            compare_child_runs(page, parent.info.run_name, names)
            for toggle in page.get_by_text("Show diff only").all():
                toggle.click()  # parameters, metrics and tags: only what differs
            page.wait_for_timeout(1000)
            page.get_by_text("Run details").scroll_into_view_if_needed()
            page.screenshot(path=out / "mlflow_compare.png", full_page=True)
        page.set_viewport_size({"width": 1300, "height": 900})
        page.goto(f"{url}/#/models/sketch_to_photo/versions/{version.version}")
        page.get_by_text("Training data", exact=True).wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=out / "mlflow_version.png")


if __name__ == "__main__":
    main()
