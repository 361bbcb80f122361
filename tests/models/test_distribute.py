"""training.strategy: choosing the tf.distribute strategy, TF_CONFIG checks, mirrored training."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.models.distribute import (
    StrategyError,
    make_strategy,
    read_tf_config,
)

MIRRORED_SCRIPT = Path(__file__).with_name("mirrored_training.py")
TWO_WORKERS = (
    '{"cluster": {"worker": ["a:2222", "b:2222"]}, "task": {"type": "worker", "index": 1}}'
)


def test_auto_without_several_gpus_is_the_single_device_default() -> None:
    if len(tf.config.list_logical_devices("GPU")) > 1:
        pytest.skip("several GPUs: auto mirrors over them")
    chosen = make_strategy("auto")
    assert chosen.replicas == 1 and chosen.is_chief
    assert chosen.strategy is tf.distribute.get_strategy()
    assert chosen.describe()["strategy"] == "auto"


def test_unknown_strategy_names_the_choices() -> None:
    with pytest.raises(StrategyError, match="auto.*mirrored.*multi_worker"):
        make_strategy("horovod")


def test_tf_config_gives_workers_and_index() -> None:
    assert read_tf_config(TWO_WORKERS) == (["a:2222", "b:2222"], 1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "needs the TF_CONFIG environment variable"),
        ("{not json", "TF_CONFIG is not valid"),
        ('{"task": {"type": "worker", "index": 0}}', "TF_CONFIG is not valid.*cluster"),
        ('{"cluster": {"worker": []}, "task": {"type": "worker", "index": 0}}', "non-empty"),
        ('{"cluster": {"worker": ["a"]}, "task": {"type": "worker", "index": 0}}', "host:port"),
        (TWO_WORKERS.replace('"index": 1', '"index": 2'), r"index must be an integer in 0\.\.1"),
        (TWO_WORKERS.replace('"worker", "index"', '"ps", "index"'), "type must be 'worker'"),
    ],
)
def test_malformed_tf_config_says_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        read_tf_config(raw)


def test_multi_worker_without_tf_config_fails_before_training(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(StrategyError, match="docs/scaling.md"):
        make_strategy("multi_worker")


def test_mirrored_on_two_cpus_matches_single_device_training(tmp_path: Path) -> None:
    """In a fresh process (logical CPUs must be set before TensorFlow starts)."""
    completed = subprocess.run(
        [sys.executable, str(MIRRORED_SCRIPT), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    assert completed.returncode == 0 and lines, completed.stderr[-3000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))

    # Gradients: one SGD step from the same weights gives the same weights on 1 or 2 replicas
    # (a gradient summed but not divided by the replica count would double the step).
    assert result["max_start_difference"] == 0
    assert result["max_update"] > 1e-3
    assert result["max_weight_difference"] < 1e-3 * result["max_update"]

    # The training node under mirrored: two replicas, same model as on one device, learning.
    mirrored = result["mirrored"]
    assert mirrored["replicas"] == "2"
    assert mirrored["devices"] == "/device:CPU:0,/device:CPU:1"
    assert mirrored["weight_shapes"] == result["single_weight_shapes"]
    assert mirrored["output_shape"] == [3, 32, 32, 3]
    assert mirrored["g_l1"][-1] < mirrored["g_l1"][0]  # the loss falls
    # 9 validation pairs over 2 replicas: batched so that no replica is empty (NaN).
    assert all(math.isfinite(value) for value in mirrored["val_l1"])


MULTI_WORKER_SCRIPT = Path(__file__).with_name("multi_worker_training.py")


def test_multi_worker_trains_on_two_workers_in_step(tmp_path: Path) -> None:
    """Two real worker processes on loopback, configured by TF_CONFIG, as on two machines."""
    ports = []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    workers = []
    for index in range(2):
        tf_config = {"cluster": {"worker": [f"localhost:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}  # fmt: skip
        env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "DO_NOT_TRACK": "1"}
        workers.append(
            subprocess.Popen(
                [sys.executable, str(MULTI_WORKER_SCRIPT), str(index), str(tmp_path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )  # fmt: skip
        )
    results = []
    for worker in workers:
        output, _ = worker.communicate(timeout=600)
        assert worker.returncode == 0, output[-3000:]
        line = next(line for line in output.splitlines() if line.startswith("RESULT "))
        results.append(json.loads(line.removeprefix("RESULT ")))
    chief, other = results
    assert chief["strategy"]["strategy"] == "multi_worker"
    assert chief["strategy"]["workers"] == "2" and chief["strategy"]["replicas"] == "2"
    assert other["strategy"]["worker_index"] == "1"
    assert chief["g_l1"][-1] < chief["g_l1"][0]  # the loss falls
    assert chief["g_l1"] == pytest.approx(other["g_l1"])  # one training, reported by both
    np.testing.assert_allclose(chief["kernel"], other["kernel"], rtol=1e-5)  # same weights
