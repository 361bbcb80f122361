"""The streaming benchmark section at tiny sizes: real shards, real input pass and training."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.models.data import count_pairs
from sketch_to_photo.tools.benchmark import streaming


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    streaming.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_generated_shards_have_the_pipelines_names_and_keys(tmp_path: Path) -> None:
    paths, uncompressed = streaming.write_synthetic_shards(tmp_path, 25, 32, 10)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "train/bench_a-00000.npz",
        "train/bench_b-00000.npz",
        "train/bench_c-00000.npz",
    ]
    assert count_pairs(NpzShardsDataset(path=str(tmp_path)).load()) == 25
    with np.load(paths[0]) as shard:
        assert shard["sketches"].shape == shard["photos"].shape == (10, 32, 32, 3)
        assert shard["masks"].shape == (10, 32, 32)
        assert {"sketch_ids", "photo_ids", "labels", "segmentation_fallback"} <= set(shard.files)
        # Pairs differ (shifts, colours, noise), so the set does not compress to nothing.
        assert len({shard["photos"][i].tobytes() for i in range(10)}) == 10
    assert uncompressed >= 25 * 32 * 32 * 7  # sketch + photo + mask bytes at least


def test_quick_run_reports_sane_figures_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "shards"
    rows = streaming.run(_args("--streaming-quick", "--streaming-dir", str(target)))
    cases = [row.case for row in rows]
    assert cases[0].startswith("generate 240 pairs")
    assert cases[1] == "input pass (training mode)"
    assert cases[2].startswith("train pix2pix")
    for row in rows:
        assert row.section == "streaming"
        assert all(math.isfinite(v) and v > 0 for v in row.values.values()), row
    generate, input_pass, training = (row.values for row in rows)
    assert generate["disk_MB"] < generate["uncompressed_MB"]
    assert input_pass["peak_rss_MB"] >= input_pass["rss_after_import_MB"]
    assert training["steps"] == 10
    assert not target.exists()  # deleted without --streaming-keep
