"""End-to-end runs through ``KedroSession`` on a copy of the project's configuration.

Each test works in its own temporary project folder (``conf/`` and ``pyproject.toml``
copied), so ``data/`` outputs never touch the checkout.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import py7zr
import pytest

from sketch_to_photo.data.sketchy.download import DownloadError
from sketch_to_photo.data.sketchy.synthetic import SUPPORTED_CATEGORIES
from sketch_to_photo.datasets import LazyNpz
from tests.conftest import DATA_PIPELINES, SMALL_RUN, run

CATEGORIES = list(SUPPORTED_CATEGORIES)  # conf/base/globals.yml's four


def _load_shards(project: Path) -> dict[str, LazyNpz]:
    folder = project / "data" / "05_model_input" / "pairs"
    return {
        p.relative_to(folder).as_posix().removesuffix(".npz"): LazyNpz(p)
        for p in sorted(folder.rglob("*.npz"))
    }


def _manifest(project: Path) -> dict[str, Any]:
    return json.loads((project / "data" / "05_model_input" / "pairs_manifest.json").read_text())


def _raw_record(project: Path) -> dict[str, Any]:
    return json.loads((project / "data" / "01_raw" / "sketchy_raw.json").read_text())


def test_data_pipelines_on_synthetic_data_write_shards_manifest_and_grid(project):
    run(project, DATA_PIPELINES, SMALL_RUN)
    manifest = _manifest(project)
    shards = _load_shards(project)
    assert shards and manifest["source"] == "synthetic"
    assert {name.split("/")[0] for name in shards} == {"train", "validation", "test"}
    assert manifest["totals"]["pairs"] == sum(len(s["sketch_ids"]) for s in shards.values()) > 0
    # dropped as invalid: the tree's sketches on the error and ambiguous lists (the default
    # index.invalid_lists), not those on the pose and context lists
    tree = project / "data" / "01_raw" / "synthetic_sketchy"
    drawn = {p.stem for p in (tree / "256x256" / "sketch").rglob("*.png")}

    def listed(*names: str) -> set[str]:
        return {i for n in names for i in (tree / "info" / f"invalid-{n}.txt").read_text().split()}

    assert drawn & listed("pose", "context") - listed("error", "ambiguous")  # kept, so it shows
    invalid = drawn & listed("error", "ambiguous")
    assert manifest["totals"]["dropped_invalid"] == len(invalid) >= 2 * len(CATEGORIES)
    assert (project / "data" / "08_reporting" / "segmentation_grid.png").stat().st_size > 10_000
    # A second acquisition with the same settings finds the tree and does nothing.
    run(project, ["data_acquisition"], SMALL_RUN)
    assert _raw_record(project)["details"]["skipped"] is True
    changed = {
        **SMALL_RUN,
        "acquisition": {"synthetic": {**SMALL_RUN["acquisition"]["synthetic"], "seed": 5}},
    }
    run(project, ["data_acquisition"], changed)
    assert _raw_record(project)["details"]["skipped"] is False


def expected_sample_pairs(sample: Path) -> dict[str, set[str]]:
    """The pairing rules, written out independently of the pipeline."""
    invalid: set[str] = set()
    for name in ("invalid-error.txt", "invalid-ambiguous.txt"):
        invalid |= set((sample / "info" / name).read_text().split())
    expected = {}
    for category in CATEGORIES:
        sketch_dir = sample / "256x256" / "sketch" / "tx_000000000000" / category
        photo_dir = sample / "256x256" / "photo" / "tx_000000000000" / category
        expected[category] = {
            p.stem for p in sketch_dir.glob("*.png")
            if p.stem not in invalid and (photo_dir / (p.stem.rsplit("-", 1)[0] + ".jpg")).is_file()
        }  # fmt: skip
    return expected


def check_sample_output(project: Path, sample: Path) -> dict[str, Any]:
    expected = expected_sample_pairs(sample)
    manifest = _manifest(project)
    shards = _load_shards(project)
    got: dict[str, set[str]] = {c: set() for c in CATEGORIES}
    photo_split: dict[str, str] = {}
    for name, shard in shards.items():
        split_name = name.split("/")[0]
        category = str(shard["categories"][0])
        got[category] |= set(shard["sketch_ids"].tolist())
        for photo_id in shard["photo_ids"].tolist():
            assert photo_split.setdefault(photo_id, split_name) == split_name, (
                f"{photo_id} in two splits"
            )
    assert got == expected
    for category in CATEGORIES:
        assert sum(e["pairs"] for e in manifest["counts"][category].values()) == len(
            expected[category]
        )
    assert set(manifest["counts"]) == set(CATEGORIES)
    assert not any(c in name for name in shards for c in ("airplane", "cat/", "/cat-"))
    testset = {Path(line).stem for line in (sample / "info" / "testset.txt").read_text().split()}
    in_test = {p for p, s in photo_split.items() if p in testset}
    assert in_test, "the sample has testset photos with valid sketches"
    assert all(photo_split[p] == "test" for p in in_test)
    invalid_seen = manifest["totals"]["dropped_invalid"]
    assert invalid_seen > 0 and manifest["totals"]["dropped_unreadable"] == 0
    assert (
        manifest["totals"]["sketches_seen"]
        == invalid_seen + manifest["totals"]["pairs"] + manifest["totals"]["dropped_segmentation"]
    )
    return manifest


@pytest.mark.sample
def test_real_sample_as_local_folder(project, sketchy_sample):
    run(
        project,
        ["data_acquisition", "data_processing"],
        {"acquisition": {"source": "local", "local": {"path": str(sketchy_sample)}}},
    )
    assert _raw_record(project)["root"] == str(sketchy_sample.resolve())
    manifest = check_sample_output(project, sketchy_sample)
    assert manifest["source"] == "local"


@pytest.fixture(scope="session")
def sample_archives(
    sketchy_sample: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, bytes]:
    """The real sample packed as the two official archives (stored, not compressed: fast)."""
    folder = tmp_path_factory.mktemp("archives")
    packed = {}
    for name, member in (("rendered_256x256.7z", "256x256"), ("info-06-04.7z", "info")):
        with py7zr.SevenZipFile(folder / name, "w", filters=[{"id": py7zr.FILTER_COPY}]) as archive:
            archive.writeall(sketchy_sample / member, arcname=member)
        packed[name] = (folder / name).read_bytes()
    return packed


def _sketchy_params(
    server, archives: dict[str, bytes], md5_override: dict[str, str] | None = None, retries: int = 1
) -> dict:
    specs = [
        {
            "name": name,
            "url": server.url(name),
            "md5": (md5_override or {}).get(name, hashlib.md5(data).hexdigest()),
        }
        for name, data in archives.items()
    ]
    sketchy = {"archives": specs, "timeout_s": 5, "retries": retries}
    return {"acquisition": {"source": "sketchy", "sketchy": sketchy}}


@pytest.mark.sample
def test_real_sample_through_the_download_path(project, sample_archives, server):
    server.files.update(sample_archives)
    params = _sketchy_params(server, sample_archives, retries=0)
    raw = project / "data" / "01_raw"
    # The connection drops mid-transfer and no retry is allowed: a clear error, the partial file
    # kept, nothing extracted.
    server.cut_after = len(sample_archives["rendered_256x256.7z"]) // 3
    with pytest.raises(DownloadError, match="re-running resumes it"):
        run(project, ["data_acquisition"], params)
    assert [p.name for p in (raw / "archives").glob("rendered_256x256.7z.unverified*.part")]
    assert not (raw / "sketchy").exists()
    # Running again resumes from the partial file and completes.
    run(project, DATA_PIPELINES, params)
    assert any(r and r.startswith("bytes=") for r in server.ranges())
    assert (raw / "archives" / "rendered_256x256.7z").read_bytes() == sample_archives[
        "rendered_256x256.7z"
    ]
    assert _raw_record(project)["root"] == str((raw / "sketchy").resolve())
    check_sample_output(project, Path(_raw_record(project)["root"]))
    # A second run finds the verified tree and does not touch the network.
    requests_before = len(server.requests)
    run(project, ["data_acquisition"], params)
    assert len(server.requests) == requests_before
    assert _raw_record(project)["details"]["skipped"] is True


@pytest.mark.sample
def test_real_sample_md5_mismatch_extracts_nothing(project, sample_archives, server):
    server.files.update(sample_archives)
    params = _sketchy_params(server, sample_archives, {"info-06-04.7z": "0" * 32})
    with pytest.raises(
        DownloadError, match=r"MD5 mismatch for info-06-04.7z: expected 0{32}, got [0-9a-f]{32}"
    ):
        run(project, ["data_acquisition"], params)
    raw = project / "data" / "01_raw"
    assert not (raw / "sketchy").exists()
    assert (raw / "archives" / "info-06-04.7z.corrupt").is_file()
    assert not [p for p in raw.iterdir() if p.name.startswith(".sketchy")]  # no temporary tree left


def test_offline_download_fails_fast_with_instructions(project):
    # A refused connection must stop the run at once, not wait out timeouts or back off
    # between retries: the run takes less extra time, over a run that stops before any node
    # (the same session start-up), than one request's configured timeout.
    timeout_s = 20
    params = {"acquisition": {"source": "sketchy", "sketchy": {"timeout_s": timeout_s, "archives": [
        {"name": "rendered_256x256.7z", "url": "http://127.0.0.1:9/rendered_256x256.7z", "md5": "0" * 32}
    ]}}}  # fmt: skip
    started = time.perf_counter()
    with pytest.raises(ValueError, match="acquisition.local.path is not set"):
        run(project, ["data_acquisition"], {"acquisition": {"source": "local"}})
    start_up = time.perf_counter() - started
    started = time.perf_counter()
    with pytest.raises(
        DownloadError, match=r"Could not reach http://127\.0\.0\.1:9/.*acquisition\.local\.path"
    ):
        run(project, ["data_acquisition"], params)
    assert time.perf_counter() - started - start_up < timeout_s


def test_local_source_without_path_is_explained(project):
    with pytest.raises(ValueError, match="acquisition.local.path is not set"):
        run(project, ["data_acquisition"], {"acquisition": {"source": "local"}})


def test_shard_arrays_are_the_documented_dtypes(project):
    run(project, DATA_PIPELINES, SMALL_RUN)
    shard = next(iter(_load_shards(project).values()))
    n = len(shard["sketch_ids"])
    expected = {
        "sketches": ((n, 64, 64, 3), np.uint8), "photos": ((n, 64, 64, 3), np.uint8), "masks": ((n, 64, 64), np.uint8),
        "labels": ((n,), np.int16), "segmentation_fallback": ((n,), np.bool_),
    }  # fmt: skip
    for key, (shape, dtype) in expected.items():
        assert shard[key].shape == shape and shard[key].dtype == dtype, key
    for key in (
        "sketch_ids",
        "photo_ids",
        "categories",
        "dropped_unreadable_ids",
        "dropped_segmentation_ids",
    ):
        assert shard[key].dtype.kind == "U", key
