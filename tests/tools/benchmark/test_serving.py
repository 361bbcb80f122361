"""The serving load benchmark: its client loop and memory figure against known servers, then
at tiny sizes against a real ``mlflow models serve``."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest

from sketch_to_photo.tools.benchmark import serving

DELAY = 0.02  # seconds the stub server takes per request


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serving.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def stub() -> Iterator[tuple[str, dict[str, int]]]:
    """A server answering like the served model after DELAY seconds, except every 3rd request
    (500) and every 5th (200 without a photo): it counts what it answered."""
    answered = {"photo": 0, "failed": 0, "no_photo": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(DELAY)
            with lock:
                number = sum(answered.values()) + 1
                kind = "failed" if number % 3 == 0 else "no_photo" if number % 5 == 0 else "photo"
                answered[kind] += 1
            status, body = {
                "photo": (200, b'{"predictions": [{"photo": "iVBOR"}]}'),
                "failed": (500, b'{"error_code": "INTERNAL_ERROR"}'),
                "no_photo": (200, b'{"predictions": [{"error": "blank sketch"}]}'),
            }[kind]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answered
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_load_counts_every_answer_once_and_only_photos_as_successes(stub):
    url, answered = stub
    latencies, errors, elapsed = serving.load(url, b'{"dataframe_records": []}', 3, 1.0)
    assert len(latencies) == answered["photo"] > 10
    assert errors == answered["failed"] + answered["no_photo"]
    assert answered["failed"] > 0 and answered["no_photo"] > 0
    assert min(latencies) >= DELAY  # each the time of one whole request
    # closed loop: each client waits for its answer, so 3 clients never overlap more than 3
    assert (len(latencies) + errors) * DELAY <= 3 * elapsed
    assert 1.0 <= elapsed < 1.0 + 1.0  # the time asked, plus the last requests in flight


def test_the_server_memory_is_its_whole_process_tree():
    """``mlflow models serve`` runs the model in uvicorn worker processes under the command:
    a child holding 200 MB must show in the server's figure."""
    child = "import time; block = b'x' * (200 * 2**20); print('ready', flush=True); time.sleep(120)"
    parent = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(120)"
    )
    server = object.__new__(serving.Server)  # the process only: no mlflow
    server.process = subprocess.Popen(
        [sys.executable, "-c", parent], start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        root = psutil.Process(server.process.pid)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            root.children() and root.children()[0].memory_info().rss > 200 * 2**20
        ):
            time.sleep(0.2)
        alone = root.memory_info().rss / 2**20
        assert server.rss_mb() > alone + 200
    finally:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()


def test_quick_load_against_a_real_server_reports_rates_latencies_and_memory():
    (row,) = serving.run(_args("--serving-quick"))
    values = row.values
    assert row.case == "2 clients" and values["errors"] == 0
    assert values["requests"] >= 2 and values["requests_per_s"] > 0
    # the rate is over the 3 s of load (and the answers still in flight), not per client
    assert 3.0 <= values["requests"] / values["requests_per_s"] < 3.0 + 60
    assert 0 < values["p50_ms"] <= values["p95_ms"]
    assert 0 < values["rss_start_mb"] <= values["rss_max_mb"]
    assert values["rss_end_mb"] <= values["rss_max_mb"]
    assert "32px/4f" in row.note and "3 s" in row.note  # --serving-quick's model and time


def test_a_model_from_elsewhere_needs_its_store():
    with pytest.raises(ValueError, match="needs --serving-tracking-uri"):
        serving.run(_args("--serving-quick", "--serving-model", "models:/x/1"))
