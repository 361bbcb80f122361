"""The whole ``kedro run`` killed with SIGKILL at five moments, rerun, and compared.

The default pipeline runs as a real subprocess (``<venv>/bin/kedro run``, in its own process
group, working directory = a project folder made with ``make_project``) at ``TINY_RUN`` sizes,
written to the project's ``conf/local/parameters.yml``. The Sketchy tree comes from a local
``.7z`` archive (``acquisition.source: local``): the synthetic tree ``TINY_RUN`` describes plus
3,000 small padding members in sketch folders ``tx_000000000001``-``5``, which the default
index ignores (the real archive holds six ``tx`` folders), so that the extraction lasts long
enough to be caught. One uninterrupted run of the same settings in a second project, up to
the pairs (``--pipelines data_acquisition,data_processing``), is the reference.

One project copy is killed at the five fault points in pipeline order: each rerun starts from
what the previous kill left, and is itself killed at the next point; the run after the last
kill goes to completion (exit status 0).

How a kill is aimed: a watcher polls every 0.2 s; at each poll it freezes the process group
(SIGSTOP), looks at the project's ``data/``, ``mlruns/`` and the run's log, and sends SIGKILL
while the group is still frozen when the fault point is reached, so what it recorded is
exactly what the kill left. A moment shorter than the poll (writing the pair shards takes
about 0.1 s at these sizes) is reached in "slow motion": from an earlier cue in the log, the
group runs in 10 ms slices between freezes and the moment is checked at every freeze.

Fault points, the moment of each SIGKILL, and what the runs after it must show:

1. acquisition from a local archive: the extraction temporary
   ``data/01_raw/.sketchy.<pid>.*.tmp`` holds extracted files and ``data/01_raw/sketchy``
   does not exist yet (the extraction lasts ~2 s: plain polling). The next run removes that
   temporary (its log names it) and extracts again; later runs skip the extraction.
2. segmentation: ``data/03_primary/.segmented_photos.partial/`` holds at least one complete
   category shard and fewer than all of them, ``segmented_photos`` does not exist (slow motion
   from the staging folder's appearance). The next run removes the killed run's
   ``.segmented_photos.<pid>.*.tmp`` and reuses exactly the staged shards (``k of 4 shard(s)
   reused``, ``k`` counted at the kill); the segmented photos equal the reference's.
3. pair shards: ``data/05_model_input/.pairs.partial/`` holds at least one complete shard and
   fewer than all of them, ``pairs`` does not exist (slow motion from "Running node:
   segment_photos" in the log). The next run removes ``.pairs.<pid>.*.tmp``, reuses exactly
   the staged shards and all 4 segmented ones; later runs reuse every shard. (a) every array
   of every pair shard (dtype included) and ``pairs_manifest.json`` (the tree's absolute
   ``root`` made relative; it holds no timings) equal the reference's.
4. registration: the log shows ``register_generator`` running and MLflow has started writing
   the generator's model files (a new ``mlruns/models/m-*`` folder; the copy takes ~60 ms, so
   slow motion from ``evaluate_sketch_classifier``, which precedes it): killed before the
   version is registered, with a half-written logged model. (c) after the last run, the
   MLflow registry (``sqlite:///<project>/mlflow.db``) has no half-made version: every version
   of ``sketch_to_photo``, ``sketch_category`` (Keras flavour) and ``sketch_to_photo_service``
   (pyfunc) is READY and loads, each model's ``champion`` is one of them, and the served
   champion wraps the champion generator.
5. training: ``training.backup_dir`` holds a completed epoch (``training_metadata.json``
   epoch >= 1; ``TINY_RUN`` backs up every 10 epochs). The last run completes and (b) its training history says it resumed from the
   epoch the backup held at the kill (> 0) and trained only the remaining epochs.

After the last run, (d) no temporary (``.*.tmp*``, ``.*.old``, ``.*.partial``) is left
anywhere under ``data/`` of either project, and the training backup is gone.

A sixth point, in its own project (a copy of the faulted project's data, after its completed
run, with a fresh store):
``kedro run --from-nodes evaluate_generator`` killed in ``register_service`` after
``register_generator`` made its version champion, then the same run again. The README
promises that ``sketch_to_photo_service@champion`` serves the champion generator: the rerun
(whose generator ties the first and is not promoted) registers the missing served model of the
champion and points the served ``champion`` at it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import py7zr
import pytest
import yaml
from kedro.config import OmegaConfigLoader
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from sketch_to_photo.data.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy
from tests.conftest import TINY_RUN, make_project

logger = logging.getLogger(__name__)

POLL_S = 0.2  # between looks at the run
SLICE_S = 0.01  # how long the group runs between looks in slow motion
REACH_S = 420  # deadline for reaching a fault point
RUN_S = 900  # deadline for a run to completion
PADDING_MEMBERS = 3000
TEMPORARY = (".*.tmp*", ".*.old", ".*.partial")
KERAS_MODELS = ("sketch_to_photo", "sketch_category")
SERVICE = "sketch_to_photo_service"


# ---- projects and runs ---------------------------------------------------------------------


def _kedro_command() -> list[str]:
    script = Path(sys.executable).parent / "kedro"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kedro"]


def _project(root: Path, archive: Path) -> Path:
    """A project whose conf/local/parameters.yml holds TINY_RUN with the local archive."""
    make_project(root)
    acquisition = {**TINY_RUN["acquisition"], "source": "local", "local": {"path": str(archive)}}
    parameters = {**TINY_RUN, "acquisition": acquisition}
    (root / "conf" / "local" / "parameters.yml").write_text(yaml.safe_dump(parameters), "utf-8")
    (root / "logs").mkdir()
    (root / "tmp").mkdir()
    return root


def _state_char(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "X"  # gone


class KedroRun:
    """``kedro run`` in ``project`` as its own process group, its output in logs/<name>.log."""

    def __init__(self, project: Path, name: str, *args: str) -> None:
        self.project, self.name = project, name
        self.log = project / "logs" / f"{name}.log"
        env = {
            **os.environ,
            "DO_NOT_TRACK": "1",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "400",  # rich's log lines unwrapped: one record, one line
            "TMPDIR": str(project / "tmp"),  # what killed processes leave in the temp dir
        }
        self.started = time.monotonic()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [*_kedro_command(), "run", *args], cwd=project, env=env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.seconds: float | None = None

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    def tail(self, n: int = 4000) -> str:
        return f"--- {self.log} ---\n" + self.text()[-n:]

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def _freeze(self) -> None:
        self._signal(signal.SIGSTOP)
        until = time.monotonic() + 2
        while _state_char(self.process.pid) not in "TtZX" and time.monotonic() < until:
            time.sleep(0.001)

    def _kill(self) -> None:
        self._signal(signal.SIGKILL)
        self.process.wait(timeout=60)
        self.seconds = time.monotonic() - self.started
        until = time.monotonic() + 20  # pool workers too: their pids must be dead for the rerun
        while time.monotonic() < until:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)

    def kill_at(
        self,
        moment: Callable[[], dict[str, Any] | None],
        *,
        slow_from: Callable[[], bool] | None = None,
        what: str,
    ) -> dict[str, Any]:
        """SIGKILL the group when ``moment()`` (looked at while the group is frozen) returns
        the state it found; from ``slow_from()`` on, the group runs in ``SLICE_S`` slices."""
        deadline = time.monotonic() + REACH_S
        slow = False
        try:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"{self.name} ended (exit {self.process.returncode}) before {what}:\n"
                        + self.tail()
                    )
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} did not reach {what} in {REACH_S} s")
                self._freeze()
                state = moment()
                if state is not None:
                    self._kill()
                    logger.info(
                        "%s killed %s after %.1f s: %s", self.name, what, self.seconds, state
                    )
                    return state
                slow = slow or (slow_from is not None and slow_from())
                self._signal(signal.SIGCONT)
                time.sleep(SLICE_S if slow else POLL_S)
        finally:
            if self.process.poll() is None:
                self._kill()

    def finish(self) -> None:
        try:
            returncode = self.process.wait(timeout=RUN_S)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError(
                f"{self.name} did not finish in {RUN_S} s:\n{self.tail()}"
            ) from None
        self.seconds = time.monotonic() - self.started
        assert returncode == 0, f"{self.name} failed (exit {returncode}):\n{self.tail()}"
        logger.info("%s completed in %.1f s", self.name, self.seconds)


# ---- the moments -----------------------------------------------------------------------------


def _complete_shards(staging: Path) -> list[str]:
    """Shards written completely into a staging folder (not the writers' temporaries)."""
    if not staging.is_dir():
        return []
    return sorted(
        p.relative_to(staging).as_posix()
        for p in staging.rglob("*.npz")
        if not p.name.startswith(".")
    )


def _extracting(project: Path) -> dict[str, Any] | None:
    raw = project / "data" / "01_raw"
    for temporary in raw.glob(".sketchy.*.tmp") if raw.is_dir() else ():
        files = sum(1 for p in temporary.rglob("*") if p.is_file())
        if files and not (raw / "sketchy").exists():
            return {"temporary": temporary.name, "files_extracted": files}
    return None


def _shards_staged(project: Path, layer: str, folder: str, total: int) -> dict[str, Any] | None:
    base = project / "data" / layer
    staged = _complete_shards(base / f".{folder}.partial")
    if staged and not (base / folder).exists():
        assert len(staged) < total, f"killed only after every {folder} shard was written: {staged}"
        return {"staged": staged}
    return None


def _epoch_backed_up(project: Path) -> dict[str, Any] | None:
    metadata = project / "data" / "06_models" / "training_backup" / "training_metadata.json"
    try:
        epoch = int(json.loads(metadata.read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or being rewritten: look again
    return {"epoch": epoch} if epoch >= 1 else None


def _segmented_shards(project: Path) -> list[str]:
    return _complete_shards(project / "data" / "03_primary" / "segmented_photos")


def _logged_models(project: Path) -> set[str]:
    folder = project / "mlruns" / "models"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def _node_running(run: KedroRun, node: str) -> bool:
    text = run.text()
    return f"Running node: {node}" in text and f"Node {node} took" not in text


def _registry(project: Path) -> dict[str, list[str]]:
    client = MlflowClient(_uri(project), _uri(project))
    return {
        model.name: sorted(
            str(v.version) for v in client.search_model_versions(f"name='{model.name}'")
        )
        for model in client.search_registered_models()
    }


def _uri(project: Path) -> str:
    return f"sqlite:///{project / 'mlflow.db'}"


# ---- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sketchy_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic tree TINY_RUN describes, as a .7z, with padding members."""
    folder = tmp_path_factory.mktemp("archive")
    conf = make_project(folder / "project") / "conf"
    (conf / "local" / "parameters.yml").write_text(yaml.safe_dump(TINY_RUN), "utf-8")
    loader = OmegaConfigLoader(
        str(conf), base_env="base", default_run_env="local", merge_strategy={"parameters": "soft"}
    )
    options = dict(loader["parameters"]["acquisition"]["synthetic"])
    options.update({k: tuple(options[k]) for k in ("categories", "sketches_per_photo")})
    tree = folder / "tree"
    generate_synthetic_sketchy(tree, SyntheticConfig(**options), progress=False)
    padding = folder / "padding"
    for k in range(PADDING_MEMBERS):
        member = padding / f"tx_00000000000{1 + k % 5}" / "padding" / f"padding-{k:05d}.png"
        member.parent.mkdir(parents=True, exist_ok=True)
        member.write_bytes(b"\x89PNG padding %d" % k)
    archive = folder / "sketchy_tiny.7z"
    with py7zr.SevenZipFile(archive, "w", filters=[{"id": py7zr.FILTER_COPY}]) as sevenzip:
        sevenzip.writeall(tree / "256x256", arcname="256x256")
        sevenzip.writeall(tree / "info", arcname="info")
        for augmentation in sorted(padding.iterdir()):
            sevenzip.writeall(augmentation, arcname=f"256x256/sketch/{augmentation.name}")
    return archive


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, sketchy_archive: Path) -> Path:
    """The same settings run once without interruption, up to the pairs: what the kills are
    compared with (the models are checked in the faulted project itself)."""
    project = _project(tmp_path_factory.mktemp("reference") / "project", sketchy_archive)
    KedroRun(project, "reference", "--pipelines", "data_acquisition,data_processing").finish()
    return project


@dataclass
class Faulted:
    project: Path
    runs: dict[str, KedroRun] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    registry_after_kill: dict[str, list[str]] = field(default_factory=dict)

    def log(self, run: str) -> str:
        return self.runs[run].text()


@pytest.fixture(scope="module")
def faulted(
    tmp_path_factory: pytest.TempPathFactory, sketchy_archive: Path, reference: Path
) -> Faulted:
    """One project killed at the five fault points in turn, then run to completion."""
    project = _project(tmp_path_factory.mktemp("faulted") / "project", sketchy_archive)
    result = Faulted(project)
    categories = len(_segmented_shards(reference))
    pair_shards = len(_complete_shards(reference / "data" / "05_model_input" / "pairs"))

    def start(name: str) -> KedroRun:
        result.runs[name] = KedroRun(project, name)
        return result.runs[name]

    run = start("1_extraction")
    result.states["extraction"] = run.kill_at(
        lambda: _extracting(project), what="during the archive's extraction"
    )

    run = start("2_segmentation")
    result.states["segmentation"] = run.kill_at(
        lambda: _shards_staged(project, "03_primary", "segmented_photos", categories),
        slow_from=(project / "data" / "03_primary" / ".segmented_photos.partial").exists,
        what="during segmentation",
    )  # fmt: skip

    run = start("3_pairs")
    result.states["pairs"] = run.kill_at(
        lambda: _shards_staged(project, "05_model_input", "pairs", pair_shards),
        slow_from=lambda run=run: "Running node: segment_photos" in run.text(),
        what="while writing the pair shards",
    )  # fmt: skip

    run = start("4_registration")
    before: list[set[str]] = []  # the logged models when register_generator started

    def writing_generator_model(run: KedroRun = run) -> dict[str, Any] | None:
        if not _node_running(run, "register_generator"):
            return None
        if not before:
            before.append(_logged_models(project))
            return None
        new = sorted(_logged_models(project) - before[0])
        if not new:
            return None
        files = [p for p in (project / "mlruns" / "models" / new[0]).rglob("*") if p.is_file()]
        return {"logged_model": new[0], "files_written": len(files)}

    # register_generator lasts 0.2-1 s, its model files are copied in about 60 ms: slow
    # motion from the last node that precedes it in every order Kedro may pick (the two
    # registrations do not depend on each other), so its start is seen before any of its files.
    result.states["registration"] = run.kill_at(
        writing_generator_model,
        slow_from=lambda run=run: "Running node: evaluate_sketch_classifier" in run.text(),
        what="while register_generator logs the generator to MLflow",
    )
    result.registry_after_kill = _registry(project)

    run = start("5_training")
    result.states["training"] = run.kill_at(
        lambda: _epoch_backed_up(project), what="during training after a completed epoch"
    )

    start("6_completion").finish()
    return result


# ---- checks ----------------------------------------------------------------------------------


def test_every_kill_landed_inside_its_fault_point(faulted: Faulted, reference: Path) -> None:
    states = faulted.states
    assert states["extraction"]["files_extracted"] > 0
    assert 1 <= len(states["segmentation"]["staged"]) < len(_segmented_shards(reference))
    assert 1 <= len(states["pairs"]["staged"])
    assert states["registration"]["logged_model"].startswith("m-")
    assert states["training"]["epoch"] >= 1
    timings = {name: round(run.seconds or 0, 1) for name, run in faulted.runs.items()}
    logger.info("Kill states: %s", json.dumps(states))
    logger.info("Run seconds (killed runs up to the kill): %s", timings)
    logger.info("Registry right after the registration kill: %s", faulted.registry_after_kill)


def _reused(log: str, folder: str) -> tuple[int, int]:
    match = re.search(rf"{folder}: (\d+) of (\d+) shard\(s\) reused", log)
    assert match, f"no reuse line for {folder} in the log"
    return int(match[1]), int(match[2])


def test_reruns_reuse_what_each_kill_left(faulted: Faulted) -> None:
    states = faulted.states
    # 2 extracts again, after removing the temporary of the killed extraction.
    log = faulted.log("2_segmentation")
    assert "Removed 1 temporary file(s) left by an interrupted run" in log
    assert states["extraction"]["temporary"] in log
    assert "Extracting sketchy_tiny.7z" in log
    # The next write of each folder removes the killed run's temporary folder beside it.
    for killed, run, folder in (
        ("2_segmentation", "3_pairs", "segmented_photos"),
        ("3_pairs", "4_registration", "pairs"),
    ):
        pid = faulted.runs[killed].process.pid
        assert re.search(
            rf"Removed 1 temporary file\(s\) .*/{folder}: \.{folder}\.{pid}\.", faulted.log(run)
        )
    # 3 reuses exactly the category shards completed before the segmentation kill.
    segmented = len(states["segmentation"]["staged"])
    categories = len(_segmented_shards(faulted.project))
    assert _reused(faulted.log("3_pairs"), "segmented_photos") == (segmented, categories)
    # 4 reuses the pair shards completed before the kill and every segmented shard.
    log = faulted.log("4_registration")
    total = _reused(log, "pairs")[1]
    assert _reused(log, "pairs") == (len(states["pairs"]["staged"]), total)
    assert _reused(log, "segmented_photos") == (categories, categories)
    for run in ("3_pairs", "4_registration", "5_training", "6_completion"):
        assert "already holds the extracted local archives; skipping" in faulted.log(run), run
    for run in ("5_training", "6_completion"):
        assert _reused(faulted.log(run), "pairs") == (total, total), run
        assert _reused(faulted.log(run), "segmented_photos") == (categories, categories), run


def _arrays(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    result = {}
    for file in sorted(folder.rglob("*.npz")):
        with np.load(file, allow_pickle=False) as npz:
            result[file.relative_to(folder).as_posix()] = {k: npz[k] for k in npz.files}
    return result


def _assert_same_arrays(got: Path, expected: Path) -> None:
    mine, theirs = _arrays(got), _arrays(expected)
    assert sorted(mine) == sorted(theirs) and mine
    for name, arrays in theirs.items():
        assert sorted(mine[name]) == sorted(arrays), name
        for key, value in arrays.items():
            assert mine[name][key].dtype == value.dtype, (name, key)
            np.testing.assert_array_equal(mine[name][key], value, err_msg=f"{name}: {key}")


def _manifest(project: Path) -> dict[str, Any]:
    manifest = json.loads((project / "data" / "05_model_input" / "pairs_manifest.json").read_text())
    manifest["root"] = Path(manifest["root"]).relative_to(project.resolve()).as_posix()
    return manifest


def test_pairs_and_manifest_equal_an_uninterrupted_run(faulted: Faulted, reference: Path) -> None:
    data = Path("data")
    for folder in ("05_model_input/pairs", "03_primary/segmented_photos"):
        _assert_same_arrays(faulted.project / data / folder, reference / data / folder)
    assert _manifest(faulted.project) == _manifest(reference)


def test_training_resumed_from_its_last_completed_epoch(faulted: Faulted) -> None:
    epoch = faulted.states["training"]["epoch"]
    history = json.loads(
        (faulted.project / "data" / "06_models" / "training_history.json").read_text()
    )
    assert history["resumed_from_epoch"] == epoch > 0
    epochs = TINY_RUN["training"]["epochs"]
    assert history["epochs"] == epochs
    assert len(history["history"]["g_loss"]) == epochs - epoch
    assert f"Resuming training from epoch {epoch + 1} ({epoch} completed" in faulted.log(
        "6_completion"
    )


@contextlib.contextmanager
def _store(project: Path) -> Any:
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    mlflow.set_tracking_uri(_uri(project))
    mlflow.set_registry_uri(_uri(project))
    try:
        yield MlflowClient(_uri(project), _uri(project))
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])


def test_registry_holds_no_half_made_version(faulted: Faulted) -> None:
    with _store(faulted.project) as client:
        names = {model.name for model in client.search_registered_models()}
        assert names == {*KERAS_MODELS, SERVICE}
        champions = {}
        for name in sorted(names):
            versions = client.search_model_versions(f"name='{name}'")
            assert versions, f"{name} has no version"
            for version in versions:
                assert version.status == "READY", (name, version.version, version.status)
                uri = f"models:/{name}/{version.version}"
                model = (
                    mlflow.keras.load_model(uri) if name in KERAS_MODELS
                    else mlflow.pyfunc.load_model(uri)
                )  # fmt: skip
                assert model is not None, uri
            champion = client.get_model_version_by_alias(name, "champion")
            assert str(champion.version) in {str(v.version) for v in versions}, name
            champions[name] = champion
        served = champions[SERVICE].tags.get("generator_version")
        assert served == str(champions["sketch_to_photo"].version), (
            "the served champion does not wrap the champion generator"
        )


def test_no_temporaries_left_under_data(faulted: Faulted, reference: Path) -> None:
    for project in (faulted.project, reference):
        left = [
            p.relative_to(project).as_posix()
            for p in (project / "data").rglob("*")
            if any(fnmatch(p.name, pattern) for pattern in TEMPORARY)
        ]
        assert left == [], f"temporaries left in {project}: {left}"
        assert not (project / "data" / "06_models" / "training_backup").exists()
    system_temp = sorted(p.name for p in (faulted.project / "tmp").iterdir())
    logger.info("Left in the killed runs' TMPDIR (outside data/): %s", system_temp)


class ServedChampionMissing(AssertionError):
    """The champion generator has no served model (``sketch_to_photo_service@champion``)."""


def test_a_kill_in_register_service_is_repaired_by_the_next_run(
    faulted: Faulted, tmp_path: Path
) -> None:
    """README: the served model's ``champion`` "moves exactly when the generator's does, so
    models:/sketch_to_photo_service@champion serves the champion generator". A fresh store,
    the faulted project's trained models and judge (after its completed run): ``kedro run --from-nodes evaluate_generator``
    killed in register_service (generator v1 becomes champion, no served model), then the
    same again to completion (v2, the same weights, ties v1 and is rightly not promoted)."""
    project = tmp_path / "project"
    shutil.copytree(  # not the killed runs' logs and temporary files (sockets among them)
        faulted.project, project,
        ignore=shutil.ignore_patterns("mlflow.db", "mlruns", "logs", "tmp"),
    )  # fmt: skip
    for folder in ("logs", "tmp"):
        (project / folder).mkdir()
    evaluation = ("--from-nodes", "evaluate_generator")
    run = KedroRun(project, "service_killed", *evaluation)
    run.kill_at(
        lambda: {"node": "register_service"} if _node_running(run, "register_service") else None,
        what="during register_service",
    )
    killed = _registry(project)
    assert killed["sketch_to_photo"] == ["1"] and not killed.get(SERVICE), killed
    KedroRun(project, "service_again", *evaluation).finish()
    decision = json.loads(
        (project / "data" / "06_models" / "generator_registration.json").read_text()
    )
    assert decision["version"] == 2 and not decision["promoted"], decision
    with _store(project) as client:
        assert str(client.get_model_version_by_alias("sketch_to_photo", "champion").version) == "1"
        try:
            served = client.get_model_version_by_alias(SERVICE, "champion")
        except MlflowException as error:
            raise ServedChampionMissing(f"{SERVICE} has no champion: {error}") from error
        if served.tags.get("generator_version") != "1":
            raise ServedChampionMissing(f"{SERVICE}@champion wraps {served.tags}, not v1")
