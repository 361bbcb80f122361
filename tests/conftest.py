"""Shared fixtures: small real datasets built by the project, and the real Sketchy sample."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from sketch_to_photo.data.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy
from tests.archive_server import server  # noqa: F401  (fixture shared by download tests)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SKETCHY_SAMPLE = PROJECT_ROOT.parent / "shared" / "sketchy_sample"
SMALL_SYNTHETIC = SyntheticConfig(
    photos_per_category=5, sketches_per_photo=(3, 4), image_size=96, seed=7
)


@pytest.fixture(scope="session")
def synthetic_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic Sketchy tree (read-only: copy it before changing anything)."""
    root = tmp_path_factory.mktemp("synthetic") / "sketchy"
    generate_synthetic_sketchy(root, SMALL_SYNTHETIC, progress=False)
    return root


@pytest.fixture
def writable_synthetic_tree(synthetic_tree: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "sketchy"
    shutil.copytree(synthetic_tree, copy)
    return copy


@pytest.fixture(scope="session")
def sketchy_sample() -> Path:
    """The real Sketchy files in ../shared/sketchy_sample; tests using it skip without it."""
    if not (SKETCHY_SAMPLE / "256x256").is_dir():
        pytest.skip(f"real Sketchy sample not found at {SKETCHY_SAMPLE}")
    return SKETCHY_SAMPLE


# Params of a fixture that feeds made-up files, then again with real Sketchy files added: the
# "real" run is marked ``sample`` (left out by ``-m "not sample"``; skipped without the sample).
MADE_AND_REAL = ["made", pytest.param("real", marks=pytest.mark.sample)]


def real_sketch_files(request: pytest.FixtureRequest, count: int) -> list[Path]:
    """The first ``count`` sketches of the real sample, for the "real" param of
    :data:`MADE_AND_REAL`; skips the test without the sample."""
    sample = request.getfixturevalue("sketchy_sample")
    return sorted((sample / "256x256" / "sketch").glob("tx_*/*/*.png"))[:count]


# Groups for pytest-xdist's --dist loadgroup (pyproject.toml's addopts): the tests of a module
# run on one worker, so its module fixtures are set up once, and so do all the tests of the tiny
# trained project, built once. The slowest groups come first, so that they start at once on
# workers of their own while the other workers share the rest.
SLOWEST_GROUPS = ("tests/test_fault_injection.py", "trained_project")
_GROUP = pytest.StashKey[str]()
_GROUPS_LOST = pytest.StashKey[bool]()  # the warning below is printed once


def pytest_itemcollected(item: pytest.Item) -> None:
    # Marked here, not in pytest_collection_modifyitems: xdist reads the marks in its own
    # modifyitems hook, which may run first.
    group = (
        "trained_project" if "trained_project" in item.fixturenames else item.nodeid.split("::")[0]
    )
    item.add_marker(pytest.mark.xdist_group(group))
    item.stash[_GROUP] = group


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        group = item.stash.get(_GROUP, "")
        return SLOWEST_GROUPS.index(group) if group in SLOWEST_GROUPS else len(SLOWEST_GROUPS)

    items.sort(key=rank)  # stable: the collection order within each rank


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook, on the controller
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Say so when the groups did not reach xdist (their names end the node IDs it got):
    nothing fails then, but every worker builds the slowest fixtures itself."""
    config = node.config
    if config.getoption("dist") != "loadgroup" or all("@" in i for i in ids):
        return
    if not config.stash.get(_GROUPS_LOST, False):
        config.stash[_GROUPS_LOST] = True
        config.pluginmanager.get_plugin("terminalreporter").write_line(
            "WARNING: pytest-xdist did not apply the test groups of tests/conftest.py "
            "(pytest-dev/pytest-xdist#1386, pytest 9.2 with xdist 3.8): each worker builds the "
            "slowest fixtures itself. Install the pytest version pyproject.toml allows.",
            yellow=True,
        )


# Kedro's telemetry asks for consent on first use and needs the network: off in tests.
os.environ.setdefault("DO_NOT_TRACK", "1")


DATA_PIPELINES = ["data_acquisition", "data_processing"]
SMALL_RUN = {
    "acquisition": {
        "synthetic": {"photos_per_category": 4, "sketches_per_photo": [3, 4], "image_size": 128}
    },
    "segmentation": {"grabcut": {"iterations": 2, "work_size": 128}},
    "shards": {"image_size": 64},
}


# The whole default pipeline at small sizes: a trained, evaluated, registered model. Trained
# just enough (about 240 steps) that the generator beats the constant mean photo on category
# faithfulness (0.46 against 0.25 when measured) and so becomes champion.
TINY_RUN = {
    **SMALL_RUN,
    "training": {
        "image_size": 32, "base_filters": 16, "epochs": 60, "batch_size": 4, "learning_rate": 1.0e-3,
        # the plain generator (the class-aware one has tests of its own); edge maps stay on
        "normalization": "batch", "class_aware": False,
        "sample_grid_every": 30, "checkpoint_every": 30, "backup_every": 10,
        "perceptual": {"weight": 1.0, "vgg_weights": "none", "layers": ["block1_conv2", "block2_conv2"]},
    },
    "sketch_classifier": {
        "image_size": 32, "epochs": 15, "vgg_weights": "none", "batch_size": 8, "widths": [16, 32, 64],
        "learning_rate": 3.0e-3,
    },
    "evaluation": {
        "fid_weights": "none", "batch_size": 16,
        "perceptual": {"vgg_weights": "none", "layers": ["block1_conv2", "block2_conv2"]},
        # 32 px after 240 steps beats no shape bar (the synthetic objects sit where the mean
        # photo has its edges); the bars are tested on their own in tests/pipelines/evaluation
        "champion_shape_metrics": [],
    },
}  # fmt: skip


def make_project(root: Path) -> Path:
    """A Kedro project folder at ``root`` using this checkout's conf/ (without conf/local)."""
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root)
    (root / "src").mkdir()  # bootstrap_project wants it; the package itself is installed
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_project(tmp_path)
    monkeypatch.chdir(tmp_path)  # the catalog's relative paths resolve from here
    bootstrap_project(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after a tiny default ``kedro run``: shards, trained models, MLflow store with
    ``sketch_to_photo`` and ``sketch_category`` v1 (champion). Shared: copy it to change it."""
    root = make_project(tmp_path_factory.mktemp("trained") / "project")
    run_from_project(root, None, TINY_RUN)
    return root


def run_from_project(root: Path, pipelines: list[str] | None, params: dict[str, Any]) -> None:
    """:func:`run` with the project folder as the working directory (the catalog's relative
    paths resolve from there), restoring the previous one after."""
    previous = Path.cwd()
    os.chdir(root)
    try:
        bootstrap_project(root)
        run(root, pipelines, params)
    finally:
        os.chdir(previous)


def run(project: Path, pipelines: list[str] | None, params: dict[str, Any]) -> None:
    try:
        with KedroSession.create(project_path=project, runtime_params=params) as session:
            session.run(pipeline_names=pipelines)
    finally:
        # kedro-mlflow ends its run from Kedro's hook thread, but MLflow keeps the active-run
        # stack per thread: without this, the next session in this process reuses the run.
        while mlflow.active_run():
            mlflow.end_run()


@contextlib.contextmanager
def mlflow_store(folder: Path, experiment: str) -> Iterator[MlflowClient]:
    """A real MLflow SQLite store in ``folder``, active while the block runs, as kedro-mlflow
    uses it; artifacts stay in ``folder`` too (MLflow's default is ./mlruns of the cwd)."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(
        experiment_id=mlflow.create_experiment(
            experiment, artifact_location=(folder / "artifacts").as_uri()
        )
    )
    try:
        yield MlflowClient(uri, uri)
    finally:
        while mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


@contextlib.contextmanager
def small_disk(folder: Path, size_kib: int) -> Iterator[Path]:
    """A real file system of ``size_kib`` KiB (tmpfs) mounted at ``folder``: a disk that fills
    up, or that ``read_only`` turns read-only. Needs root (CAP_SYS_ADMIN); skips without."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=False)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    """Run the block with the process umask set to ``mask``, restoring the previous one."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    """The permission bits of ``path`` (``0o644``, ...)."""
    return path.stat().st_mode & 0o777


def read_only(folder: Path) -> None:
    """Remount the ``small_disk`` at ``folder`` read-only."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)


def fill_disk(folder: Path, leave_bytes: int) -> Path:
    """Fill the file system of ``folder`` up to ``leave_bytes`` free; returns the filler file."""
    filler = folder / "filler.bin"
    free = shutil.disk_usage(folder).free - leave_bytes
    with filler.open("wb") as file:
        file.write(b"\0" * max(free, 0))
    return filler
