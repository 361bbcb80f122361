"""The served model under load: ``mlflow models serve`` with N concurrent clients.

Starts a real ``mlflow models serve`` on 127.0.0.1 for the served model
(``sketch_to_photo_service``; by default a freshly registered one with random weights at the
real-data recipe's size, or ``--serving-model`` from ``--serving-tracking-uri``), then N client
threads post a sketch PNG (base64 JSON, as in the curl example of docs/using_the_model.md) as fast as the server
answers for a fixed time. Reports requests per second, median and 95th-percentile latency,
errors, and the server's memory (resident set of its process tree) after warm-up, at the end
and at most, so a leak shows as growth.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import requests

from sketch_to_photo.tools.benchmark.inference import sketch_png
from sketch_to_photo.tools.benchmark.report import Row

SECTION = "serving"


def progress(message: str) -> None:
    print(f"[serving] {message}", file=sys.stderr, flush=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("serving")
    group.add_argument("--serving-clients", type=int, default=8, help="concurrent clients (8)")
    group.add_argument("--serving-seconds", type=float, default=60.0, help="load time (60 s)")
    group.add_argument(
        "--serving-model",
        help="model URI to serve (default: register a random-weight service model in a temp store)",
    )
    group.add_argument(
        "--serving-tracking-uri", help="MLflow store of --serving-model (e.g. sqlite:///mlflow.db)"
    )
    group.add_argument(
        "--serving-size", type=int, default=64, help="image side of the default model (64)"
    )
    group.add_argument(
        "--serving-filters", type=int, default=32, help="base filters of the default model (32)"
    )
    group.add_argument("--serving-sketch", type=Path, help="a sketch file to post (default: drawn)")
    group.add_argument(
        "--serving-quick", action="store_true", help="tiny model, 2 clients, 3 seconds"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def register_random_service(folder: Path, size: int, filters: int) -> str:
    """A class-aware generator and a small classifier (random weights) registered as the
    served model in a SQLite store in ``folder``; returns the tracking URI."""
    import keras  # noqa: PLC0415  (TensorFlow only when this model is made)
    import mlflow  # noqa: PLC0415

    from sketch_to_photo.mlops.model_registry import follow_champion, log_and_register_service  # noqa: PLC0415
    from sketch_to_photo.mlops.service import SERVICE_NAME  # noqa: PLC0415
    from sketch_to_photo.models import build_generator  # noqa: PLC0415
    from sketch_to_photo.models.classifier import build_small_classifier  # noqa: PLC0415

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(
        experiment_id=mlflow.create_experiment("serving", (folder / "artifacts").as_uri())
    )
    keras.utils.set_random_seed(0)
    categories = ["alarm_clock", "ant"]
    generator = build_generator(size, filters, normalization="instance", num_classes=2)
    classifier = build_small_classifier(2, image_size=size, widths=(16, 32, 64))
    card = {
        "generator_name": "sketch_to_photo", "generator_version": 1, "image_size": size,
        "categories": categories, "class_aware": True,
        "classifier": {"image_size": size, "categories": categories},
    }  # fmt: skip
    with mlflow.start_run():
        version = log_and_register_service(generator, classifier, card)
    follow_champion(SERVICE_NAME, version, promoted=True)
    return uri


class Server:
    """``mlflow models serve`` in its own process group, stopped on exit."""

    def __init__(self, model: str, tracking_uri: str, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_REGISTRY_URI": tracking_uri,
        }
        # mlflow starts uvicorn through the shell: the virtualenv's bin/ must be on PATH
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        mlflow_cli = shutil.which("mlflow", path=env["PATH"]) or "mlflow"
        self.log = log
        self.process = subprocess.Popen(
            [mlflow_cli, "models", "serve", "-m", model, "--env-manager", "local",
             "-h", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"the server did not answer /ping in {timeout:.0f} s")

    def rss_mb(self) -> float:
        """Resident memory of the server's whole process tree (uvicorn workers included)."""
        try:
            root = psutil.Process(self.process.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return float("nan")
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def load(url: str, body: bytes, clients: int, seconds: float) -> tuple[list[float], int, float]:
    """``clients`` threads posting ``body`` for ``seconds``; latencies (s), errors, elapsed."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        with requests.Session() as session:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = session.post(
                        f"{url}/invocations", data=body, timeout=60,
                        headers={"Content-Type": "application/json"},
                    )  # fmt: skip
                    ok = response.status_code == 200 and b'"photo"' in response.content
                except requests.RequestException:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    if ok:
                        latencies.append(elapsed)
                    else:
                        errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def run(args: argparse.Namespace) -> list[Row]:
    clients, seconds = args.serving_clients, args.serving_seconds
    size, filters = args.serving_size, args.serving_filters
    if args.serving_quick:
        clients, seconds, size, filters = 2, 3.0, 32, 4
    if clients < 1 or seconds <= 0:
        raise ValueError("--serving-clients and --serving-seconds must be positive")
    sketch = args.serving_sketch.read_bytes() if args.serving_sketch else sketch_png(256)
    body = json.dumps(
        {"dataframe_records": [{"image": base64.b64encode(sketch).decode()}]}
    ).encode()
    with tempfile.TemporaryDirectory(prefix="sketch_to_photo_serving.") as tmp:
        folder = Path(tmp)
        if args.serving_model:
            if not args.serving_tracking_uri:
                raise ValueError("--serving-model needs --serving-tracking-uri (its MLflow store)")
            model, uri, what = args.serving_model, args.serving_tracking_uri, args.serving_model
        else:
            progress(f"registering a random-weight service model ({size} px, {filters} filters)")
            uri = register_random_service(folder, size, filters)
            model, what = "models:/sketch_to_photo_service@champion", f"random {size}px/{filters}f"
        server = Server(model, uri, folder / "server.log")
        try:
            server.wait_ready()
            load(server.url, body, 1, min(3.0, seconds))  # warm-up: sessions, first requests
            rss_start = server.rss_mb()
            progress(f"{clients} clients for {seconds:.0f} s against {what}")
            samples: list[float] = []
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(1.0):
                    samples.append(server.rss_mb())

            sampler = threading.Thread(target=sample)
            sampler.start()
            try:
                latencies, errors, elapsed = load(server.url, body, clients, seconds)
            finally:
                sampling.set()
                sampler.join()
            rss_end = server.rss_mb()
        finally:
            server.stop()
    if not latencies:
        raise RuntimeError(f"no request succeeded ({errors} errors)")
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    values = {
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * quantiles[18],
        "requests": float(len(latencies)),
        "errors": float(errors),
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_max_mb": max([rss_start, rss_end, *samples]),
    }
    note = f"{what}, {len(sketch):,}-byte PNG, {seconds:.0f} s, {os.cpu_count()} cores"
    return [Row(SECTION, f"{clients} clients", values, note)]
