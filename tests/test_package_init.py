"""Importing the package turns TensorFlow's oneDNN kernels on unless the user said otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# What TensorFlow itself reports: its oneDNN kernels in use or not.
PROBE = (
    "import sketch_to_photo\n"
    "from tensorflow.python.util import _pywrap_util_port as port\n"
    "print(port.IsMklEnabled())\n"
)


def _onednn_enabled(setting: str | None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if setting is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = setting
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1] == "True"


def test_onednn_is_on_by_default_on_every_cpu() -> None:
    # TensorFlow leaves it off by itself on a CPU without AVX512-VNNI, AVX512-BF16 or AMX
    assert _onednn_enabled(None)


@pytest.mark.parametrize("setting", ["0", "false"])
def test_the_users_choice_wins(setting: str) -> None:
    assert not _onednn_enabled(setting)
