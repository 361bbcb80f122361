"""Make the README's screenshots from a project after ``kedro run``:

    python -m tests.browser.screenshots --project . --out docs/images

Starts the Streamlit demo and kedro-viz on 127.0.0.1, drives them in Chromium exactly as the
browser tests do, and writes demo_draw.png, demo_test_split.png and kedro_viz.png.

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
    browser_page,
    chromium_missing,
    draw_ant,
    draw_teapot,
    free_port,
    kedro_viz_command,
    kedro_viz_screenshot,
    open_kedro_viz,
    serve,
    streamlit_command,
    wait_for_idle,
    wait_for_result,
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument(
        "--only", choices=["ant", "viz"],
        help="ant: draw an ant and save only that picture; viz: only kedro_viz.png",
    )  # fmt: skip
    args = parser.parse_args()
    if reason := chromium_missing():
        raise SystemExit(reason)
    project, out = args.project.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix="screenshots-"))
    if args.only != "viz":
        demo_screenshots(project, out, logs, ant_only=args.only == "ant")
    if args.only in (None, "viz"):
        viz_screenshot(project, out, logs)
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


if __name__ == "__main__":
    main()
