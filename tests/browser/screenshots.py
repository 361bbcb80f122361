"""Make the README's screenshots from a project after ``kedro run``:

    python -m tests.browser.screenshots --project . --out docs/images

Starts the Streamlit demo and kedro-viz on 127.0.0.1, drives them in Chromium exactly as the
browser tests do, and writes demo_draw.png, demo_test_split.png and kedro_viz.png.

    python -m tests.browser.screenshots --project . --out docs/images --only mlflow

serves the project's MLflow store with ``mlflow server`` and writes mlflow_runs.png (the runs
list with the headline columns), mlflow_compare.png (the two newest variants of the newest
``python -m sketch_to_photo.tools.model_experiments`` run compared; skipped without one) and
mlflow_version.png (the ``sketch_to_photo`` champion's page, else the newest version's, with
its model card).

    python -m tests.browser.screenshots --project . --out docs/images --only ant

draws an ant instead (for a model trained on real Sketchy ants, e.g. the cpu_real recipe) and
writes only demo_draw_ant.png: the test split's pictures are Sketchy's and cannot be committed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from sketch_to_photo.mlops.tracking import runs_list_url
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
    plot_compared_metrics,
    serve,
    streamlit_command,
    toggle_run_columns,
    wait_for_idle,
    wait_for_result,
)

# Runs-list columns the README suggests: category faithfulness and L1 with the mean photo's
# beside them, and the classifier's accuracy (in the order the list shows them).
HEADLINE_COLUMNS = [
    "headline/classifier_accuracy", "headline/faithfulness", "headline/faithfulness_mean_photo",
    "headline/l1", "headline/l1_mean_photo",
]  # fmt: skip
# The Compare page's parallel-coordinates plot of two variants.
COMPARED_METRICS = ["headline/faithfulness", "headline/l1", "headline/stroke_recall"]


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
    versions = client.search_model_versions("name = 'sketch_to_photo'")
    champion = client.get_registered_model("sketch_to_photo").aliases.get("champion")
    version = next((v for v in versions if str(v.version) == str(champion)), None) or max(
        versions, key=lambda v: int(v.version)
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (
        serve(mlflow_server_command(store, port), project, f"{url}/health", logs / "mlflow.log"),
        browser_page(width=2600, height=560) as page,
    ):
        page.add_init_script(MLFLOW_ASSISTANT_CLOSED + MLFLOW_MODEL_TRAINING_VIEW)
        runs_list_screenshot(page, runs_list_url(url, experiment.experiment_id), out)
        if len(children) >= 2:
            names = [r.info.run_name for r in children[:2]]
            compare_screenshot(page, parent.info.run_name, names, out)
        page.set_viewport_size({"width": 1300, "height": 900})
        page.goto(f"{url}/#/models/sketch_to_photo/versions/{version.version}")
        page.get_by_text("Training data", exact=True).wait_for()
        source_run = client.get_run(version.run_id).info.run_name
        page.get_by_text(source_run).first.wait_for()  # the link to the run that made it
        page.wait_for_timeout(1000)
        page.screenshot(path=out / "mlflow_version.png")
    for name in ("mlflow_runs.png", "mlflow_compare.png", "mlflow_version.png"):
        if (out / name).is_file():
            shrink_png(out / name)


def runs_list_screenshot(page, url: str, out: Path) -> None:  # noqa: ANN001
    """The runs list with every dataset of a run and the headline columns, fitted."""
    page.goto(url)
    page.get_by_text("Dataset", exact=True).first.wait_for()
    page.get_by_role("button", name="Toggle sidebar").click()  # room for the columns
    toggle_run_columns(page, ["Source", "Models"])
    add_run_columns(page, HEADLINE_COLUMNS)
    page.get_by_text("Expand rows").click()  # every dataset of a run, one per line
    # fitted right to left, then the rest: the grid scrolls its header (only) when a column
    # it fits leaves the view
    fit_columns(page, [f"metrics.`{c}`" for c in reversed(HEADLINE_COLUMNS)])
    fit_columns(page, ["attributes.`Dataset`", "attributes.`Run Name`"])
    page.mouse.move(5, 300)
    page.wait_for_timeout(1000)
    last = page.locator(f'.ag-header-cell[col-id="metrics.`{HEADLINE_COLUMNS[-1]}`"]')
    right = last.bounding_box()
    table = page.locator(".ag-center-cols-container").bounding_box()
    page.screenshot(
        path=out / "mlflow_runs.png",
        clip={"x": 0, "y": 0, "width": right["x"] + right["width"] + 20,
              "height": table["y"] + table["height"] + 30},
    )  # fmt: skip
    page.get_by_role("button", name="Toggle sidebar").click()


def compare_screenshot(page, parent: str, children: list[str], out: Path) -> None:  # noqa: ANN001
    """Two nested runs compared: the headline metrics plotted, the names, what differs and
    both result grids, on a page tall enough to need no scrolling."""
    page.set_viewport_size({"width": 1300, "height": 2300})
    compare_child_runs(page, parent, children)
    plot_compared_metrics(page, COMPARED_METRICS)
    for toggle in page.get_by_text("Show diff only").all():
        toggle.click()  # parameters, metrics and tags: only what differs
    page.get_by_text("result_grid.png").first.click()  # both runs' grids, side by side
    page.wait_for_timeout(2000)
    page.get_by_text("Comparing 2 Runs").scroll_into_view_if_needed()
    page.mouse.move(5, 5)
    page.screenshot(path=out / "mlflow_compare.png")


def shrink_png(path: Path) -> None:
    """A screenshot in 256 colours (a third of the bytes; UI text and flat colours stay)."""
    from PIL import Image  # noqa: PLC0415

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main()
