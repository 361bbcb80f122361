"""Drive the project's web surfaces in a real browser: Debian's Chromium through Playwright.

Used by the browser tests and by ``python -m tests.browser.screenshots`` (the README's images).
"""

from __future__ import annotations

import contextlib
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from pathlib import Path

import requests

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's hosts, which this
# offline machine refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
STARTUP_SECONDS = 180  # servers importing TensorFlow on 2 busy cores


def chromium_missing() -> str | None:
    """Why a browser test cannot run here, or None when it can."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    try:
        import playwright.sync_api  # noqa: F401, PLC0415
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


def free_port() -> int:
    """A free TCP port on 127.0.0.1 below 49152: kedro-viz refuses ports above 49151, and the
    operating system's ephemeral ports (bind to port 0) are often above that."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 49000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free TCP port found between 20000 and 49000")


@contextlib.contextmanager
def serve(command: list[str], cwd: Path, ready_url: str, log: Path) -> Iterator[subprocess.Popen]:
    """Start a server, wait until ``ready_url`` answers 200, stop it (and its children) after."""
    env = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: stop workers too
        )  # fmt: skip
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{command[:3]} exited with {process.returncode}:\n{log.read_text()[-3000:]}"
                    )
                try:
                    if requests.get(ready_url, timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{ready_url} not ready after {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
                    )
                time.sleep(1)
            yield process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 15)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


def streamlit_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000) -> Iterator[object]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(STARTUP_SECONDS * 1000)
            yield page
        finally:
            browser.close()


def _stroke(page, points: list[tuple[float, float]]) -> None:  # noqa: ANN001
    """One pen stroke through ``points`` with the mouse button held."""
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=2)
    page.mouse.up()


def draw_teapot(page) -> None:  # noqa: ANN001  (a Playwright Page)
    """Draw a teapot-like sketch on the demo's canvas with real mouse strokes."""
    canvas = page.locator("canvas.upper-canvas")  # fabric.js' event layer
    canvas.wait_for()
    box = canvas.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.55
    rx, ry = box["width"] * 0.28, box["height"] * 0.22

    body = [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in _angles(0, 2 * math.pi, 48)]
    handle = [
        (cx + rx + 0.35 * rx * math.sin(t), cy + 0.5 * ry * math.cos(t))
        for t in _angles(0, math.pi, 16)
    ]
    spout = [(cx - rx, cy), (cx - 1.45 * rx, cy - 0.9 * ry), (cx - 1.6 * rx, cy - 1.1 * ry)]
    lid = [(cx - 0.45 * rx, cy - ry), (cx, cy - 1.45 * ry), (cx + 0.45 * rx, cy - ry)]
    for points in (body, handle, spout, lid):
        _stroke(page, points)


def draw_ant(page) -> None:  # noqa: ANN001  (a Playwright Page)
    """Draw an ant with real mouse strokes: head, thorax and abdomen, six legs, two antennae."""
    canvas = page.locator("canvas.upper-canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    w, h = box["width"], box["height"]
    x0, y0 = box["x"], box["y"]

    def at(fx: float, fy: float) -> tuple[float, float]:
        return x0 + fx * w, y0 + fy * h

    def ellipse(fx: float, fy: float, rx: float, ry: float) -> list[tuple[float, float]]:
        return [
            at(fx + rx * math.cos(t), fy + ry * math.sin(t)) for t in _angles(0, 2 * math.pi, 32)
        ]

    for body in (
        ellipse(0.27, 0.5, 0.08, 0.07),
        ellipse(0.45, 0.5, 0.1, 0.06),
        ellipse(0.7, 0.52, 0.16, 0.11),
    ):
        _stroke(page, body)
    for fx in (0.4, 0.46, 0.52):  # three legs each side from the thorax, bent at the knee
        _stroke(page, [at(fx, 0.5), at(fx - 0.06, 0.34), at(fx - 0.1, 0.22)])
        _stroke(page, [at(fx, 0.5), at(fx - 0.06, 0.66), at(fx - 0.1, 0.8)])
    _stroke(page, [at(0.22, 0.46), at(0.16, 0.3), at(0.1, 0.26)])  # antennae
    _stroke(page, [at(0.22, 0.54), at(0.16, 0.7), at(0.1, 0.74)])


def _angles(start: float, stop: float, count: int) -> list[float]:
    return [start + (stop - start) * i / count for i in range(count + 1)]


def wait_for_idle(page) -> None:  # noqa: ANN001
    """Wait until Streamlit has finished rerunning (its "Stop" button is gone) and every image
    on the page has loaded."""
    page.wait_for_timeout(300)  # a rerun starts a moment after the interaction
    page.get_by_role("button", name="Stop").wait_for(state="hidden")
    page.wait_for_function(
        "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    )


def wait_for_result(page) -> float:  # noqa: ANN001
    """Wait until the demo shows a generated photo; return the inference time it shows (ms)."""
    page.get_by_text("Generated photo").wait_for()
    page.get_by_text("Download the photo (PNG)").wait_for()  # the last element of a result
    wait_for_idle(page)
    metric = page.locator('[data-testid="stMetricValue"]').first
    return float(metric.inner_text().removesuffix(" ms"))


def kedro_viz_command(port: int) -> list[str]:
    return [
        sys.executable, "-m", "kedro", "viz", "run", "--no-browser",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


def open_kedro_viz(
    page,  # noqa: ANN001
    url: str,
    pipeline: str = "__default__",
    expect: Collection[str] = (),
    timeout_s: float = 60,
) -> list[str]:
    """Open one pipeline in kedro-viz, close its first-visit hints; return the shown labels.

    kedro-viz draws the default pipeline first and only then fetches the one named by ``pid``,
    so the labels are read again until every ``expect`` label is there (or the time is up).
    """
    page.goto(f"{url}/?pid={pipeline}")
    page.locator(".pipeline-node").first.wait_for()
    page.wait_for_timeout(1000)  # the hints appear after the first render
    for hint in (page.get_by_text("Dismiss", exact=True), page.locator(".feature-hints__close")):
        if hint.count():
            hint.first.click()
    deadline = time.monotonic() + timeout_s
    while True:
        shown = page.locator(".pipeline-node text").all_text_contents()
        if set(expect) <= set(shown) or time.monotonic() > deadline:
            return shown
        page.wait_for_timeout(250)


def kedro_viz_screenshot(page, path: Path) -> None:  # noqa: ANN001
    """The open flowchart, top to bottom on a tall page, light theme, without the menu."""
    page.set_viewport_size({"width": 1200, "height": 1500})
    page.get_by_label("Change to light theme").click()
    page.get_by_label("Hide menu").click()
    page.get_by_label("Turn minimap off").click()
    page.get_by_label("Reset zoom").click()
    page.wait_for_timeout(1500)
    for hint in (page.locator(".feature-hints__close"), page.get_by_text("Dismiss", exact=True)):
        if hint.count():
            hint.first.click()
    page.mouse.move(5, 5)  # no tooltip in the picture
    toast = page.get_by_text("You can revisit these hints")
    if toast.count():
        toast.first.wait_for(state="hidden", timeout=15000)
    page.screenshot(path=path)


# ---- the MLflow UI ----------------------------------------------------------------------

# Set in the page before MLflow's UI loads: its assistant panel (which opens by itself on a
# first visit and covers a third of the page) closed.
MLFLOW_ASSISTANT_CLOSED = """
localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');
localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');
"""
# As a user who clicked "Model training" at the top of the sidebar once: the browser keeps it.
MLFLOW_MODEL_TRAINING_VIEW = """
localStorage.setItem('mlflow.workflowType_v1', '"machine_learning"');
"""


def mlflow_server_command(store_uri: str, port: int) -> list[str]:
    """``mlflow server`` as the README starts it, on ``store_uri``."""
    return [
        sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store_uri,
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def mlflow_run_rows(page):  # noqa: ANN001, ANN201  (a Playwright Page and Locator)
    """The runs list's rows in the pinned part (checkbox, run name, created)."""
    return page.locator(".ag-pinned-left-cols-container .ag-row")


def toggle_run_columns(page, names: Collection[str]) -> None:  # noqa: ANN001
    """Tick or untick ``names`` (attributes, metrics, params, tags) in the runs list's
    Columns menu, found through its search box."""
    page.get_by_role("button", name="Columns", exact=True).click()
    search = page.get_by_placeholder("Search columns")
    tree = page.get_by_test_id("column-selector-tree")
    for name in names:
        search.fill(name)  # lists ``name`` and the names it begins
        tree.locator("div").filter(has_text=re.compile(f"^{re.escape(name)}$")).last.click()
    search.fill("")
    page.keyboard.press("Escape")


def add_run_columns(page, names: Collection[str]) -> None:  # noqa: ANN001
    """Show ``names`` as runs-list columns and wait for the first one's header (the grid
    draws only the columns in view)."""
    toggle_run_columns(page, names)
    page.get_by_role("columnheader").filter(has_text=next(iter(names))).first.wait_for()


def fit_columns(page, column_ids: Collection[str]) -> None:  # noqa: ANN001
    """Fit runs-list columns (their ``col-id``: ``metrics.`headline/l1```) to their content,
    as a double click on a column's right edge does; columns out of view are left as they
    are (the grid draws only those in view)."""
    for column_id in column_ids:
        handle = page.locator(f'.ag-header-cell[col-id="{column_id}"] .ag-header-cell-resize')
        if handle.count():
            handle.first.dblclick()


def mlflow_run_row(page, name: str):  # noqa: ANN001, ANN201
    """The runs list's row (pinned part) of the run named ``name`` exactly (the cell's text
    also holds the run's colour, ``#8ddda8``, for screen readers)."""
    cell = page.locator('[col-id="attributes.`Run Name`"]').filter(
        has_text=re.compile(f"^\\s*(#[0-9a-fA-F]{{6}})?{re.escape(name)}\\s*$")
    )
    return mlflow_run_rows(page).filter(has=cell).first


def compare_child_runs(page, parent: str, children: Collection[str]) -> None:  # noqa: ANN001
    """In the runs list: unfold the run named ``parent``, tick its nested runs named
    ``children`` and press Compare."""
    mlflow_run_row(page, parent).locator('[col-id="attributes.`Run Name`"] button').first.click()
    for child in children:
        row = mlflow_run_row(page, child)
        row.wait_for()
        row.locator("input.ag-checkbox-input").first.check()
    page.get_by_role("button", name="Compare").first.click()
    page.get_by_text(f"Comparing {len(children)} Runs").wait_for()


def plot_compared_metrics(page, names: Collection[str]) -> None:  # noqa: ANN001
    """On the Compare page: the parallel-coordinates plot of ``names`` instead of the metric
    it shows first."""
    metrics = page.get_by_role("combobox").nth(1)  # parameters, then metrics
    selector = metrics.locator("xpath=ancestor::div[contains(@class, 'select-selector')]")
    for remove in selector.locator("[class*='select-selection-item-remove']").all():
        remove.click()
    metrics.click()
    for name in names:
        page.keyboard.type(name)  # the list filters as one types
        page.get_by_role("option", name=name, exact=True).wait_for(state="attached")
        page.keyboard.press("Enter")
    page.keyboard.press("Escape")
