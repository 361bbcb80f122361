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
    check_global_batch,
    make_strategy,
    read_tf_config,
    skip_symbolic_build,
    validation_batching,
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


@pytest.mark.parametrize(
    ("n_pairs", "batch", "replicas", "expected"),
    [
        (39, 16, 1, (16, False)),  # one device: as configured, partial last batch allowed
        (40, 16, 2, (16, False)),  # 16, 16, 8: every replica gets pairs
        (33, 16, 2, (14, False)),  # 16 would leave 1 pair for 2 replicas; 14 leaves 5
        (9, 8, 2, (6, False)),  # a first batch of 7 would split 4 + 3
        (3, 8, 2, (2, True)),  # nothing splits 3 pairs evenly: drop one
        (5, 8, 4, (4, True)),
    ],
)
def test_validation_batching_splits_evenly_over_replicas(n_pairs, batch, replicas, expected):
    size, drop = validation_batching(n_pairs, batch, replicas)
    assert (size, drop) == expected
    if replicas > 1:
        assert size % replicas == 0
        remainder = 0 if drop else n_pairs % size
        assert remainder == 0 or remainder >= replicas


def test_fit_still_calls_the_private_build_step_that_multi_worker_training_skips():
    """``skip_symbolic_build`` replaces Keras' private ``_maybe_symbolic_build``: if a Keras
    upgrade renames it or ``fit`` stops calling it, the patch would silently do nothing."""
    import keras  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    def small_model() -> keras.Model:
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        return model

    x, y = np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model, calls = small_model(), []
    original = model._maybe_symbolic_build
    model._maybe_symbolic_build = lambda *a, **k: (calls.append(1), original(*a, **k))[1]
    model.fit(x, y, epochs=1, verbose=0)
    assert calls, "keras.Model.fit no longer calls _maybe_symbolic_build: revisit the patch"

    skipped = small_model()
    skip_symbolic_build(skipped)
    skipped.fit(x, y, epochs=1, verbose=0)  # the model is built already: training still works
    assert skipped.built


def test_the_global_batch_must_split_evenly_and_fill_a_batch():
    check_global_batch(8, 2, 20)
    with pytest.raises(ValueError, match=r"make it a multiple of 3"):
        check_global_batch(8, 3, 20)
    with pytest.raises(ValueError, match=r"6 training pairs make no full batch of 8"):
        check_global_batch(8, 2, 6)
