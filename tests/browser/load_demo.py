"""Many people drawing on the Streamlit demo at once: time per answer and model loads.

    python -m tests.browser.load_demo --sessions 8 --rounds 3 --project .

Serves the project folder's demo (its MLflow store's ``champion`` models) with streamlit on
127.0.0.1 and opens ``--sessions`` browser contexts in one Chromium, each a Streamlit session
of its own driven from its own thread (a Playwright connection over CDP each: Playwright's sync
objects stay on the thread that made them). In each round all sessions draw an ant at the same
time and wait for their photo, then clear their canvas. An answer's time runs
from the last stroke's mouse-up to the load of the photo's image in the page, both on this
machine's clock; it includes the canvas' 200 ms debounce before it sends the drawing. Model
loads are the server log's "Loading NAME vN from the registry" lines (streamlit_app.py's
cached loader): each model should load once per server process, not per session or per click.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.browser.drive import (
    CHROMIUM,
    CHROMIUM_ARGS,
    STARTUP_SECONDS,
    chromium_missing,
    draw_ant,
    free_port,
    serve,
    streamlit_command,
    wait_for_idle,
    wait_for_result,
)

LOAD_LINE = re.compile(r"Loading\s+(\S+)\s+v(\d+)\s")  # words, not lines: the log may wrap
ANSWER_SECONDS = 300  # one answer, several sessions queued before it on 2 busy cores
SETTLE_MS = 500  # a photo counts once it is still the one shown this long after
# Records every image load in the page (load events do not bubble, but can be captured).
RECORD_LOADS = """
window.__imageLoads = [];
document.addEventListener('load', (event) => {
  if (event.target.tagName === 'IMG') window.__imageLoads.push([event.target.src, Date.now()]);
}, true);
"""
# The generated photo now shown: [src, first load at or after `since` (ms)], or null.
SHOWN_PHOTO = """(since) => {
  const figure = [...document.querySelectorAll('[data-testid="stImage"]')]
    .find((element) => element.innerText.includes('Generated photo'));
  const image = figure && figure.querySelector('img');
  if (!image || !image.complete || !image.naturalWidth) return null;
  const times = window.__imageLoads
    .filter(([src, time]) => src === image.src && time >= since).map(([, time]) => time);
  return times.length ? [image.src, Math.min(...times)] : null;
}"""


@dataclass(frozen=True)
class LoadFigures:
    sessions: int
    rounds: int
    answered: dict[tuple[int, int], float]  # (round, session) -> seconds, stroke to photo
    failures: list[str]  # "session 3, round 2: why"
    loads: dict[str, int]  # registered model name -> loads in the server process
    browser: str = "one Chromium"

    @property
    def seconds(self) -> list[float]:
        return list(self.answered.values())

    @property
    def answers(self) -> int:
        return len(self.answered)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else math.nan

    @property
    def p95(self) -> float:
        if len(self.seconds) < 2:
            return self.seconds[0] if self.seconds else math.nan
        return statistics.quantiles(self.seconds, n=20, method="inclusive")[18]

    @property
    def max(self) -> float:
        return max(self.seconds, default=math.nan)

    def report(self) -> str:
        loads = ", ".join(f"{name} {count}" for name, count in sorted(self.loads.items()))
        lines = [
            f"sessions: {self.sessions} ({self.browser}, one context each)",
            f"rounds: {self.rounds}",
            f"answers: {self.answers} of {self.sessions * self.rounds}",
            f"failures: {len(self.failures)}",
            *(f"  {failure}" for failure in self.failures),
            "seconds from the last stroke to the photo shown: "
            f"median {self.median:.2f}, 95th percentile {self.p95:.2f}, max {self.max:.2f}",
            f"model loads in the server process: {loads or 'none logged'}",
        ]
        for round_ in range(1, self.rounds + 1):
            times = [f"{s:.2f}" for (r, _), s in sorted(self.answered.items()) if r == round_]
            lines.append(f"  round {round_}: {' '.join(times)}")
        return "\n".join(lines)


def model_loads(log_text: str) -> dict[str, int]:
    """Loads per registered model name in a server log of streamlit_app.py."""
    return dict(Counter(match[1] for match in LOAD_LINE.finditer(log_text)))


@contextlib.contextmanager
def shared_chromium() -> Iterator[str]:
    """One Chromium launched by Playwright on this thread; yields its CDP endpoint, which other
    threads connect to with Playwright connections of their own."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    port = free_port()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--remote-debugging-port={port}"]
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            browser.close()


def photo_seconds(page, stroke_ms: float) -> float:  # noqa: ANN001  (a Playwright Page)
    """Seconds from ``stroke_ms`` (epoch ms) to the load of the generated photo that answers
    the sketch drawn by then: the one still shown once the app is idle and has settled."""
    deadline = time.monotonic() + ANSWER_SECONDS
    while time.monotonic() < deadline:
        wait_for_result(page)
        shown = page.evaluate(SHOWN_PHOTO, stroke_ms)
        if shown is None:  # still an earlier sketch's photo: its rerun has not started yet
            page.wait_for_timeout(200)
            continue
        page.wait_for_timeout(SETTLE_MS)
        wait_for_idle(page)
        if page.evaluate(SHOWN_PHOTO, stroke_ms) == shown:
            return (shown[1] - stroke_ms) / 1000
    raise TimeoutError(f"no photo for the last sketch after {ANSWER_SECONDS} s")


def clear_canvas(page) -> None:  # noqa: ANN001
    page.get_by_role("button", name="Reset canvas & history").click()
    page.get_by_text("Generated photo").wait_for(state="detached")
    wait_for_idle(page)


def drive_session(
    cdp_url: str, url: str, index: int, rounds: int, barrier: threading.Barrier,
    answered: dict[tuple[int, int], float], failures: list[str], draw: Callable[[Any], None],
) -> None:  # fmt: skip
    """One person: open the demo, then each round draw (an ant) with the others and time the
    photo. Runs on its own thread, with its own Playwright connection to the shared Chromium."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(cdp_url)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            try:
                page = context.new_page()
                page.set_default_timeout(STARTUP_SECONDS * 1000)
                page.add_init_script(RECORD_LOADS)
                page.goto(url)
                page.get_by_text("Draw a sketch on the canvas").wait_for()
                for round_ in range(1, rounds + 1):
                    barrier.wait()  # all draw at once
                    try:
                        draw(page)
                        answered[round_, index] = photo_seconds(page, time.time() * 1000)
                        if round_ < rounds:
                            clear_canvas(page)
                    except Exception as exc:  # noqa: BLE001  (counted; the next round is tried)
                        failures.append(f"session {index}, round {round_}: {exc!r}"[:500])
                        page.goto(url)  # a fresh page, with an empty canvas
                        page.get_by_text("Draw a sketch on the canvas").wait_for()
            finally:
                context.close()
    except threading.BrokenBarrierError:
        failures.append(f"session {index}: stopped, another session failed to start")
    except Exception as exc:  # noqa: BLE001
        failures.append(f"session {index}: {exc!r}"[:500])
        barrier.abort()  # the others would wait for this one forever


def measure(
    url: str, log: Path, sessions: int = 8, rounds: int = 3,
    draw: Callable[[Any], None] = draw_ant,
) -> LoadFigures:  # fmt: skip
    """Drive ``sessions`` sessions of the demo served at ``url`` for ``rounds`` rounds, each
    drawing with ``draw`` (a function of drive.py); read the model loads from the server's
    ``log``."""
    answered: dict[tuple[int, int], float] = {}  # the threads share these two: setting an
    failures: list[str] = []  # item and appending are atomic
    # every round waits at most for its slowest answer (clearing, drawing, answering)
    barrier = threading.Barrier(sessions, timeout=STARTUP_SECONDS + 2 * ANSWER_SECONDS)
    with shared_chromium() as cdp_url:
        threads = [
            threading.Thread(
                target=drive_session,
                args=(cdp_url, url, index, rounds, barrier, answered, failures, draw),
                name=f"session-{index}",
            )
            for index in range(1, sessions + 1)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return LoadFigures(sessions, rounds, answered, failures, model_loads(log.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--project", type=Path, default=Path("."))
    args = parser.parse_args()
    if reason := chromium_missing():
        raise SystemExit(reason)
    os.environ.setdefault("COLUMNS", "200")  # the server's rich log lines, unwrapped
    log = Path(tempfile.mkdtemp(prefix="load-demo-")) / "streamlit.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve(streamlit_command(port), args.project.resolve(), f"{url}/_stcore/health", log):
        figures = measure(url, log, args.sessions, args.rounds)
    print(figures.report())  # noqa: T201  (a command-line report)
    print(f"server log: {log}")  # noqa: T201
    if figures.failures:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
