"""The Streamlit demo in Chromium: draw on the canvas with the mouse, and upload a file."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.browser.drive import (
    browser_page,
    draw_teapot,
    free_port,
    serve,
    streamlit_command,
    wait_for_result,
)
from tests.browser.load_demo import measure
from tests.conftest import PROJECT_ROOT


@pytest.fixture(scope="module")
def demo_server(
    trained_project: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The demo served from the trained project: its URL and the server's log."""
    shutil.copy(PROJECT_ROOT / "streamlit_app.py", trained_project)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    with serve(streamlit_command(port), trained_project, f"{url}/_stcore/health", log):
        yield url, log


@pytest.fixture(scope="module")
def demo_url(demo_server: tuple[str, Path]) -> str:
    return demo_server[0]


def shown_images(page) -> list[tuple[int, int]]:  # noqa: ANN001
    """Natural sizes of the images the page shows (0 x 0 for one that failed to load)."""
    return page.eval_on_selector_all(
        '[data-testid="stImage"] img', "els => els.map(e => [e.naturalWidth, e.naturalHeight])"
    )


def shown_widths(page) -> list[float]:  # noqa: ANN001
    """On-screen widths (CSS pixels) of the images the page shows."""
    return page.eval_on_selector_all(
        '[data-testid="stImage"] img', "els => els.map(e => e.getBoundingClientRect().width)"
    )


def test_drawing_on_the_canvas_makes_a_photo(demo_url, screenshot_dir):
    with browser_page() as page:
        page.goto(demo_url)
        page.get_by_text("Draw a sketch on the canvas").wait_for()
        draw_teapot(page)
        milliseconds = wait_for_result(page)
        assert milliseconds > 0
        images = shown_images(page)
        assert len(images) == 2 and all(w > 0 and h > 0 for w, h in images)
        assert all(width >= 256 for width in shown_widths(page))  # large enough to see a shape
        page.get_by_text("Category guess:").wait_for()
        page.get_by_text("Download the photo (PNG)").wait_for()
        page.screenshot(path=screenshot_dir / "demo_draw.png", full_page=True)


def test_uploading_a_sketch_makes_a_photo(demo_url, screenshot_dir, tmp_path):
    sketch = tmp_path / "teapot.png"
    image = Image.new("L", (400, 400), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((80, 130, 320, 330), outline=0, width=7)
    draw.arc((270, 170, 380, 290), -90, 90, fill=0, width=7)
    draw.line((80, 220, 20, 150), fill=0, width=7)
    image.save(sketch)
    with browser_page() as page:
        page.goto(demo_url)
        page.get_by_text("Upload", exact=True).click()
        page.locator('input[type="file"]').set_input_files(sketch)
        assert wait_for_result(page) > 0
        assert page.get_by_text("teapot.png").is_visible()  # the uploader lists the file
        images = shown_images(page)
        assert len(images) == 2 and all(w > 0 and h > 0 for w, h in images)
        page.screenshot(path=screenshot_dir / "demo_upload.png", full_page=True)


def test_eight_sessions_drawing_at_once_each_get_a_photo_from_one_load(demo_server):
    """Eight people draw at the same time: every one gets a photo, and each model is loaded
    once in the server process (earlier tests of this module share it), not per session or
    per stroke (each reruns the page). A teapot: 4 strokes, so fewer reruns than an ant's 11."""
    figures = measure(*demo_server, sessions=8, rounds=1, draw=draw_teapot)
    assert figures.failures == []
    assert figures.answers == 8
    assert figures.loads == {"sketch_to_photo": 1, "sketch_category": 1}
    assert all(0 < s < math.inf for s in (figures.median, figures.p95, figures.max))
