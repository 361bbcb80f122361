"""Generator recipes side by side on the same real pairs: ``python -m sketch_to_photo.experiments``.

Each variant is the ``training`` parameters of a configuration environment (``--env``, default
``cpu_real``) with a few keys changed. It is trained with the project's training node on the
pair shards that ``kedro run --env <env>`` wrote, read through the project's catalog, then judged
on the test split: L1, SSIM and PSNR against the real photos, and category faithfulness by the
pipeline's own judge (``faithfulness_judge``: the photo classifier the evaluation pipeline
trained on the real train photos; trained here with ``evaluation.faithfulness`` when the run
has none yet), next to the real test photos and the constant mean photo, so that a row reads
like the pipeline's ``evaluation_metrics.json``. One JSON line per variant is appended to
``--out`` and a result grid (sketch | generated | real) is saved beside it, so the table in
docs/model_experiments.md can be remade and its pictures looked at.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
from kedro.framework.context import KedroContext
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from PIL import Image

from sketch_to_photo.datasets import ShardLoaders
from sketch_to_photo.inference import generator_inputs, to_uint8
from sketch_to_photo.metrics import per_image_metrics
from sketch_to_photo.models.callbacks import render_grid
from sketch_to_photo.models.data import pair_dataset, unique_photos
from sketch_to_photo.models.faithfulness import accuracy_by_category, judge_predictions
from sketch_to_photo.pairs import split_shards
from sketch_to_photo.pipelines.evaluation.nodes import train_faithfulness_judge
from sketch_to_photo.pipelines.training.nodes import train_generator

logger = logging.getLogger(__name__)

VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},  # the environment's settings as they are
    "no_perceptual": {"perceptual": {"weight": 0.0}},
    "instance_norm": {"normalization": "instance"},
    "instance_no_perceptual": {"normalization": "instance", "perceptual": {"weight": 0.0}},
    "class_aware": {"class_aware": True},
    "class_aware_no_perceptual": {"class_aware": True, "perceptual": {"weight": 0.0}},
    "class_aware_instance_no_perceptual": {
        "class_aware": True,
        "normalization": "instance",
        "perceptual": {"weight": 0.0},
    },
    # On top of the cpu_real recipe (instance norm, class-aware, no perceptual term):
    "linear_decay": {"lr_schedule": "linear_decay"},
    "l1_weight_10": {"l1_weight": 10.0},
    "size_128": {"image_size": 128},
    "batch_4": {"batch_size": 4},
    "spectral_norm": {"spectral_norm": True},
    "spectral_norm_l1_weight_10": {"spectral_norm": True, "l1_weight": 10.0},
    # The edge-map mix (training.edge_maps, on in the recipe) and its schedule:
    "no_edge_maps": {"edge_maps": {"enabled": False}},
    "edge_maps_constant_half": {"edge_maps": {"real_share_start": 0.5, "real_share_end": 0.5}},
    "edge_maps_0.5_to_1": {"edge_maps": {"real_share_start": 0.5, "real_share_end": 1.0}},
    "edge_maps_not_class_aware": {"class_aware": False},
    "edge_maps_size_128": {"image_size": 128},
}


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _set_path(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value


def _project_context(project: Path, env: str) -> KedroContext:
    metadata = bootstrap_project(project)
    configure_project(metadata.package_name)
    with KedroSession.create(project_path=project, env=env) as session:
        return session.load_context()


def _pipeline_judge(
    catalog: Any, pair_shards: ShardLoaders, evaluation: dict[str, Any]
) -> keras.Model:
    """The evaluation pipeline's ``faithfulness_judge``; trained and saved when there is none."""
    if catalog.exists("faithfulness_judge"):
        return catalog.load("faithfulness_judge")
    judge, _ = train_faithfulness_judge(pair_shards, evaluation)
    catalog.save("faithfulness_judge", judge)
    return judge


def _test_arrays(shards: ShardLoaders, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sketches, photos, labels = [], [], []
    for name, load in shards.items():
        for s, p in pair_dataset({name: load}, image_size=size, batch_size=256, training=False):
            sketches.append(s.numpy())
            photos.append(p.numpy())
        labels.append(load()["labels"].astype(np.int64))
    return np.concatenate(sketches), np.concatenate(photos), np.concatenate(labels)


def run_variant(
    name: str,
    training: dict[str, Any],
    categories: list[str],
    pair_shards: ShardLoaders,
    edge_map_shards: ShardLoaders,
    judge: keras.Model,
    out: Path,
) -> dict[str, Any]:
    """Train one variant with the training node and judge it on the test split."""
    with tempfile.TemporaryDirectory() as work:
        training = _merge(
            training,
            {
                "sample_dir": f"{work}/samples",
                "checkpoint_dir": f"{work}/checkpoints",
                "backup_dir": f"{work}/backup",
                "checkpoint_every": 0,
            },
        )
        started = time.perf_counter()
        generator, summary = train_generator(
            pair_shards, edge_map_shards, {"categories": categories}, training
        )
        seconds = time.perf_counter() - started
    size = int(training["image_size"])
    sketches, photos, labels = _test_arrays(split_shards(pair_shards, "test"), size)
    generated = np.asarray(
        generator.predict(generator_inputs(generator, sketches, labels), batch_size=64, verbose=0)
    )
    train_photos, _ = unique_photos(split_shards(pair_shards, "train"), image_size=size)[:2]
    mean_photo = np.broadcast_to(train_photos.mean(axis=0), photos.shape)
    row: dict[str, Any] = {"variant": name, "seconds": round(seconds, 1)}
    for system, images in (("model", generated), ("mean_photo", mean_photo), ("real", photos)):
        faith = accuracy_by_category(judge_predictions(judge, images), labels, categories)
        row[f"{system}_faithfulness"] = round(faith["accuracy"], 3)
        row[f"{system}_faithfulness_per_category"] = faith["per_category"]
        if system != "real":
            metrics = per_image_metrics(images, photos)
            row[f"{system}_l1"] = round(float(np.mean(metrics["l1"])), 4)
            row[f"{system}_ssim"] = round(float(np.mean(metrics["ssim"])), 4)
            row[f"{system}_psnr"] = round(float(np.mean(metrics["psnr"])), 2)
    row["train_pairs"] = summary["train_pairs"]
    row["epochs"] = summary["epochs"]
    row["final_g_l1"] = round(summary["history"]["g_l1"][-1], 4)
    row["final_val_l1"] = round(summary["history"].get("val_l1", [float("nan")])[-1], 4)
    shown = np.concatenate([np.flatnonzero(labels == c)[:: max(1, (labels == c).sum() // 4)][:4]
                            for c in range(len(categories))])  # fmt: skip
    grid = render_grid(
        to_uint8(sketches[shown]), to_uint8(generated[shown]), to_uint8(photos[shown])
    )
    Image.fromarray(grid).save(out.with_name(f"{out.stem}_{name}.png"))
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help=f"names from {sorted(VARIANTS)}")
    parser.add_argument("--env", default="cpu_real")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=Path("data/08_reporting/experiments.jsonl"))
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="training parameter for every variant, e.g. --set epochs=20",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {sorted(VARIANTS)}")
    out = args.out.resolve()
    project = args.project.resolve()
    os.chdir(project)  # the catalog's file paths are relative to the project
    context = _project_context(project, args.env)
    catalog, params = context.catalog, context.params
    training = copy.deepcopy(params["training"])
    for item in args.set:
        key, _, value = item.partition("=")
        _set_path(training, key, _parse_value(value))
    if not catalog.exists("pairs_manifest"):
        parser.error(f"no pair shards in {project}: run `kedro run --env {args.env}` there first")
    categories = list(catalog.load("pairs_manifest")["categories"])
    pair_shards = catalog.load("pair_shards")
    edge_map_shards = catalog.load("edge_map_shards") if catalog.exists("edge_map_shards") else {}
    judge = _pipeline_judge(catalog, pair_shards, params["evaluation"])
    out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants:
        row = run_variant(
            name,
            _merge(training, VARIANTS[name]),
            categories,
            pair_shards,
            edge_map_shards,
            judge,
            out,
        )
        row["settings"] = {**VARIANTS[name], **dict(i.partition("=")[::2] for i in args.set)}
        print(json.dumps(row), flush=True)  # noqa: T201
        with out.open("a", encoding="utf-8") as file:
            file.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
