"""``kedro run`` with its output folder on a full disk, then on a read-only one: a clear error
that names the file, the cause and what to do, and the previous outputs left exactly as they
were (byte for byte, no temporaries).

The project is a copy of ``trained_project`` (a complete tiny run) whose ``data/`` is a small
real file system (tmpfs, see ``tests.conftest.small_disk``) holding that run's outputs. The
rerun changes a segmentation setting, so every data-processing output must be written anew.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import TINY_RUN, fill_disk, read_only, small_disk

RUN_S = 600


def _digests(data: Path) -> dict[str, str]:
    return {
        str(path.relative_to(data)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(data.rglob("*"))
        if path.is_file() and path.name != "filler.bin"
    }


def _kedro_run(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    kedro = Path(sys.executable).parent / "kedro"
    command = [str(kedro)] if kedro.is_file() else [sys.executable, "-m", "kedro"]
    return subprocess.run(
        [*command, "run", *arguments], cwd=project, capture_output=True, text=True,
        timeout=RUN_S, check=False, env={**__import__("os").environ, "COLUMNS": "200"},
    )  # fmt: skip


@pytest.fixture
def project_on_a_small_disk(trained_project: Path, tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(trained_project, project, ignore=shutil.ignore_patterns("data"))
    (project / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(TINY_RUN))
    used_bytes = sum(p.stat().st_size for p in (trained_project / "data").rglob("*") if p.is_file())
    with small_disk(project / "data", used_bytes // 1024 + 4096) as data:
        shutil.copytree(trained_project / "data", data, dirs_exist_ok=True)
        yield project


def test_full_then_read_only_output_disk(project_on_a_small_disk: Path) -> None:
    project = project_on_a_small_disk
    data = project / "data"
    before = _digests(data)
    assert any(name.startswith("05_model_input/pairs/") for name in before)
    changed = "--params=segmentation.grabcut.iterations=3"

    fill_disk(data, leave_bytes=16 * 1024)
    full = _kedro_run(project, "--pipelines=data_processing", changed)
    output = " ".join((full.stdout + full.stderr).split())  # rich wraps long lines
    assert full.returncode != 0, output[-3000:]
    print(output[-1500:])  # noqa: T201 - shown with -s: the message a user sees
    assert "Could not write " in output, output[-3000:]
    assert "there is no space left on the disk that holds" in output
    assert f"Could not write {data}/03_primary/segmented_photos (shard " in output
    assert "The previous segmented_photos is unchanged" in output
    assert "Free some space there, or point the catalog's path at a disk with room" in output
    assert _digests(data) == before
    assert not [p for p in data.rglob(".*") if ".tmp" in p.name or p.name.endswith(".old")]

    (data / "filler.bin").unlink()
    read_only(data)
    blocked = _kedro_run(project, "--pipelines=data_processing", changed)
    output = " ".join((blocked.stdout + blocked.stderr).split())
    assert blocked.returncode != 0, output[-3000:]
    assert "is on a read-only file system" in output, output[-3000:]
    assert "Run where the project folder is writable" in output
    assert _digests(data) == before
