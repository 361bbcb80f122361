"""Generator recipes side by side on the same real pairs:
``python -m sketch_to_photo.tools.model_experiments``.

Each variant is the ``training`` parameters of a configuration environment (``--env``, default
``cpu_real``) with a few keys changed. It is trained with the project's training node on the
pair and edge-map shards that ``kedro run --env <env>`` wrote, read through the project's
catalog, then evaluated on the test split by the evaluation pipeline's own node
(``evaluate_generator``) with the pipeline's judge (``faithfulness_judge``; trained here with
``evaluation.faithfulness`` when the run has none yet) and sketch classifier: category
faithfulness, the shape metrics (stroke recall, chamfer, fill, photo KID), L1, SSIM and PSNR,
for the model, the real test photos and every baseline (sketch copy included), so that a row
reads like the pipeline's ``evaluation_metrics.json``. One JSON line per variant is appended to
``--out`` and its result grid (12 test sketches over the categories) is saved beside it, so
the table in docs/model_experiments.md can be remade and its pictures looked at.

Each invocation is also one MLflow run in the project's store and experiment (``mlflow.yml``),
named ``experiments: <env> <size>px <categories>``, with every variant a run nested under it
named after the variant (``linear_decay 64px alarm_clock+ant``): its training parameters as
params (``training.*``, the names a ``kedro run`` logs), its row's numbers as metrics (under
the row's names, with the evaluation's ``headline/*`` beside them), its per-epoch losses, its
result grid (``result_grid.png``) and the pair shards as its dataset. Tick variants in the MLflow UI and press
Compare to see the side-by-side table.

``--extra-edge-maps FOLDER`` adds the train edge-map shards of other categories, written by
``kedro run --pipelines data_acquisition,data_processing`` in another project folder (its
``data/05_model_input/edge_maps``), to the edge-map stream: more aligned outline-to-photo
pairs, as SketchyGAN drew edge maps of extra photos. Their pairs carry no category (an all-zero
one-hot for the class-aware generator and discriminator), or with ``--extra-edge-maps-as
classes`` each extra category becomes a class of its own after the project's (the generator's
category input grows by their number). The test split, the judge and the classifier stay this
project's.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import keras
import mlflow
import numpy as np
from kedro.framework.context import KedroContext
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from omegaconf import OmegaConf

from sketch_to_photo.data.pairs import split_and_category, split_shards
from sketch_to_photo.datasets import NpzShardsDataset, ShardLoaders
from sketch_to_photo.datasets.npz_shards_dataset import LazyNpz
from sketch_to_photo.evaluation.metric_names import (
    HEADLINE_PREFIX,
    PHOTO_KID,
    headline_metrics,
    metric_key,
)
from sketch_to_photo.mlops.tracking import (
    flatten,
    label_run,
    log_shards_dataset,
    run_name,
    run_tags,
)
from sketch_to_photo.parameter_models import ParameterError, validate_parameters
from sketch_to_photo.pipelines.evaluation.nodes import evaluate_generator, train_faithfulness_judge
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
    "edge_maps_0.2_to_0.5": {"edge_maps": {"real_share_start": 0.2, "real_share_end": 0.5}},
    "edge_maps_constant_0.2": {"edge_maps": {"real_share_start": 0.2, "real_share_end": 0.2}},
    "edge_maps_0.2_to_0.8": {"edge_maps": {"real_share_start": 0.2, "real_share_end": 0.8}},
    "edge_maps_not_class_aware": {"class_aware": False},
    "edge_maps_spectral_norm": {"spectral_norm": True},
    "edge_maps_size_128": {"image_size": 128},
    # 128 px costs about 4x the step: 15 epochs keep three or four categories in the hour
    "edge_maps_size_128_15_epochs": {"image_size": 128, "epochs": 15},
    # a real sketch's pair weighs less in the L1 term than an aligned edge map's
    "real_l1_weight_0.25": {"edge_maps": {"real_l1_weight": 0.25}},
    "real_l1_weight_0.1": {"edge_maps": {"real_l1_weight": 0.1}},
    "batch_4_real_l1_weight_0.25": {"batch_size": 4, "edge_maps": {"real_l1_weight": 0.25}},
    "upsampling_resize": {"upsampling": "resize"},
    "feature_matching_10": {"feature_matching_weight": 10.0},
    "generator_ema_0.99": {"generator_ema": 0.99},
    "generator_ema_0.995": {"generator_ema": 0.995},
    "diffaugment": {"discriminator_augment": ["colour", "translation", "cutout"]},
    "diffaugment_translation_cutout": {"discriminator_augment": ["translation", "cutout"]},
    "stroke_context": {"stroke_context": True},
    "r1_1": {"r1_weight": 1.0},
    "r1_0.1": {"r1_weight": 0.1},
    "r1_0.01": {"r1_weight": 0.01},
    "discriminator_scales_2": {"discriminator_scales": 2},
    "photo_to_sketch": {"pair_alignment": "photo_to_sketch"},
    "sketch_to_photo": {"pair_alignment": "sketch_to_photo"},
    # SketchyGAN's photo jitter
    "photo_colour": {"photo_colour": {"brightness": 0.3, "contrast": 0.2}},
    # SketchyGAN's optimizers: D at twice G's rate (training.learning_rate 2e-4), Adam betas 0
    # and 0.9
    "two_timescales": {"discriminator_learning_rate": 4.0e-4, "beta_1": 0.0, "beta_2": 0.9},
    # What the 2026-12-05 rows called two time-scales: D at 20x G's rate, the 4e-3 taken for
    # twice a 2e-3 that is the sketch classifier's rate, not the generator's
    "two_timescales_20x": {"discriminator_learning_rate": 4.0e-3, "beta_1": 0.0, "beta_2": 0.9},
    # AC-GAN's auxiliary classifier, on the photo alone
    "category_critic": {"category_critic_weight": 1.0},
    # pix2pix's other generator: 6 residual blocks at a quarter of the size, no skips
    "resnet_generator": {"generator": "resnet"},
}


NO_CATEGORY = -1  # tf.one_hot(-1, n) is all zeros: a pair without a category
EXTRA_EDGE_MAPS_AS = ("uncategorised", "classes")


class RelabelledShard(LazyNpz):
    """A shard whose pairs all read as one category: its ``labels`` read as ``label``
    (``NO_CATEGORY``: none)."""

    def __init__(self, path: str | Path, label: int) -> None:
        super().__init__(path)
        self.label = label

    def __getitem__(self, key: str) -> np.ndarray:
        value = super().__getitem__(key)
        return np.full_like(value, self.label) if key == "labels" else value


def extra_edge_maps(
    folder: Path, own: ShardLoaders, first_class: int | None = None
) -> ShardLoaders:
    """The train edge-map shards in ``folder`` (another project's
    ``data/05_model_input/edge_maps``), to mix in with ``own``: without a category, or with
    ``first_class`` each extra category (in :func:`extra_categories` order) a class of its own
    from ``first_class`` on. A shard name in both is an error: a category of both projects
    would lose its label."""
    where = f"--extra-edge-maps {folder}"
    if not folder.is_dir():
        raise ValueError(f"{where}: no such folder")
    loaded = NpzShardsDataset(path=str(folder)).load()
    outside = sorted(name for name in loaded if "/" not in name.replace("\\", "/"))
    if outside:
        raise ValueError(
            f"{where}: {outside[0]}.npz is in no split folder; give the folder that holds "
            "train/ (a project's data/05_model_input/edge_maps)"
        )
    shards = split_shards(loaded, "train")
    if not shards:
        raise ValueError(
            f"{where}: no train edge-map shards there; run "
            "`kedro run --pipelines data_acquisition,data_processing` in that project first"
        )
    clashes = sorted(set(shards) & set(own))
    if clashes:
        raise ValueError(
            f"{where}: {', '.join(clashes)} also in this project's edge "
            "maps; leave its categories out of the other project"
        )

    classes = {
        category: NO_CATEGORY if first_class is None else first_class + index
        for index, category in enumerate(extra_categories(shards))
    }

    def relabelled(load: Any, label: int) -> Any:
        def read() -> RelabelledShard:
            shard = load()
            result = RelabelledShard(shard.path, label)
            result.fingerprint = shard.fingerprint
            return result

        return read

    return {
        name: relabelled(load, classes[split_and_category(name)[1]])
        for name, load in shards.items()
    }


def extra_categories(shards: ShardLoaders) -> list[str]:
    """The categories of the extra shards, sorted: the order of their classes."""
    return sorted({split_and_category(name)[1] for name in shards})


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def apply_settings(training: dict[str, Any], settings: list[str]) -> dict[str, Any]:
    """``training`` with each ``--set KEY=VALUE`` applied (``perceptual.weight=0`` reaches into
    the group), the values read as ``kedro run --params`` reads them (YAML: ``20``, ``0.5``,
    ``true``, ``[a, b]``), and the result validated like ``kedro run``'s parameters
    (:class:`sketch_to_photo.parameter_models.training.TrainingParams`): a misspelt key or a wrong
    value is a :class:`ParameterError` naming it, never silently ignored."""
    for item in settings:
        key, equals, _ = item.partition("=")
        if not equals or not key.strip():
            raise ParameterError(f"--set {item!r}: write KEY=VALUE, e.g. --set epochs=20")
    changes = OmegaConf.to_container(OmegaConf.from_dotlist([s.strip() for s in settings]))
    merged = _merge(training, changes)
    validate_parameters({"training": merged}, source="--set, over the environment's training")
    return merged


def _checked_training(
    training: dict[str, Any], variants: list[str], settings: list[str]
) -> dict[str, Any]:
    """The environment's ``training`` with ``--set`` applied, once every variant's changes on
    top of it are checked, before any training. A key that both ``--set`` and a variant set is
    refused: the variant's value would win while the results' row recorded the ``--set`` one."""
    training = apply_settings(training, settings)
    keys = {item.partition("=")[0].strip() for item in settings}
    for name in variants:
        changes = flatten(VARIANTS[name])
        clashes = sorted(keys & set(changes))
        if clashes:
            raise ParameterError(
                f"--set {', '.join(clashes)}: variant {name} sets it itself "
                f"({', '.join(f'{k}={changes[k]}' for k in clashes)}); "
                "drop the --set or pick a variant that leaves it alone"
            )
        validate_parameters({"training": _merge(training, VARIANTS[name])}, f"variant {name}")
    return training


def _project_context(project: Path, env: str) -> KedroContext:
    metadata = bootstrap_project(project)
    configure_project(metadata.package_name)
    with KedroSession.create(project_path=project, env=env) as session:
        return session.load_context()


def _pipeline_judge(
    catalog: Any, pair_shards: ShardLoaders, evaluation: dict[str, Any]
) -> tuple[keras.Model, dict[str, Any]]:
    """The evaluation pipeline's ``faithfulness_judge`` and its summary; trained and saved
    when there is none."""
    if catalog.exists("faithfulness_judge") and catalog.exists("faithfulness_judge_summary"):
        return catalog.load("faithfulness_judge"), catalog.load("faithfulness_judge_summary")
    judge, summary = train_faithfulness_judge(pair_shards, evaluation)
    catalog.save("faithfulness_judge", judge)
    return judge, summary


ROW_METRICS = ("faithfulness", "stroke_recall", "chamfer", "fill", PHOTO_KID, "l1", "ssim", "psnr")


def run_variant(
    name: str,
    training: dict[str, Any],
    manifest: dict[str, Any],
    shards: tuple[ShardLoaders, ShardLoaders],
    judges: tuple[keras.Model, dict[str, Any], keras.Model | None],
    evaluation: dict[str, Any],
    out: Path,
    training_manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train one variant with the training node and evaluate it with the evaluation node.

    ``manifest`` is the pairs manifest; ``training_manifest`` the one the training node reads
    instead, when extra categories are classes of the generator; ``shards`` the pair and
    edge-map shards; ``judges``
    the faithfulness judge, its summary and the sketch classifier (None when the run has none:
    no guessed-category score). In an active MLflow run, the row's numbers and the headline
    metrics are logged to it, and the result grid."""
    categories = list(manifest["categories"])
    pair_shards, edge_map_shards = shards
    judge, judge_summary, classifier = judges
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
            pair_shards, edge_map_shards, training_manifest or manifest, training
        )
        seconds = time.perf_counter() - started
    # a grid of 12 test sketches spread over the categories
    grid_per_category = max(1, 12 // max(1, len(categories)))
    report, _, grid = evaluate_generator(
        generator,
        pair_shards,
        judge,
        judge_summary,
        classifier,
        {**evaluation, "grid_per_category": grid_per_category},
    )
    row: dict[str, Any] = {"variant": name, "seconds": round(seconds, 1)}
    for system, values in report["overall"].items():
        for metric in ROW_METRICS:
            if values.get(metric) is not None:
                row[f"{system}_{metric}"] = round(float(values[metric]), 4)
    for metric in ROW_METRICS:
        if report["real_photos"].get(metric) is not None:
            row[f"real_{metric}"] = round(float(report["real_photos"][metric]), 4)
    row["model_faithfulness_per_category"] = {
        category: values["model"]["faithfulness"]
        for category, values in report["per_category"].items()
    }
    row["beats_baselines"] = report["beats_baselines"]
    row["train_pairs"] = summary["train_pairs"]
    row["edge_map_pairs"] = summary["edge_map_pairs"]
    row["epochs"] = summary["epochs"]
    row["final_g_l1"] = round(summary["history"]["g_l1"][-1], 4)
    row["final_val_l1"] = round(summary["history"].get("val_l1", [float("nan")])[-1], 4)
    grid.save(out.with_name(f"{out.stem}_{name}.png"))
    if mlflow.active_run() is not None:
        _log_row(row, headline_metrics(report), grid)
    return row


def _log_row(row: dict[str, Any], headline: dict[str, float], grid: Any) -> None:
    """A variant's row in its MLflow run: numbers as metrics under the row's names (per
    category ``model_faithfulness_<category>``), the headline metrics, whether it beats its
    baselines as tags, and the result grid as ``result_grid.png`` (one name in every
    variant, so that Compare shows the grids side by side)."""
    metrics = {
        key: float(value)
        for key, value in row.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }
    for category, value in row["model_faithfulness_per_category"].items():
        if value is not None:
            metrics[f"model_faithfulness_{metric_key(category)}"] = float(value)
    metrics.update({HEADLINE_PREFIX + key: value for key, value in headline.items()})
    mlflow.log_metrics(metrics)
    mlflow.set_tags({f"beats_baselines.{k}": str(v) for k, v in row["beats_baselines"].items()})
    mlflow.log_image(grid, artifact_file="result_grid.png")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help=f"names from {sorted(VARIANTS)}")
    parser.add_argument("--env", default="cpu_real")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument("--out", type=Path, default=Path("data/08_reporting/experiments.jsonl"))
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="training parameter for every variant, e.g. --set epochs=20 (checked like "
        "kedro run --params: a wrong key or value is an error)",
    )  # fmt: skip
    parser.add_argument(
        "--extra-edge-maps", type=Path, metavar="FOLDER",
        help="another project's data/05_model_input/edge_maps: its train edge maps join the "
        "edge-map stream without a category",
    )  # fmt: skip
    parser.add_argument(
        "--extra-edge-maps-as", choices=EXTRA_EDGE_MAPS_AS, default="uncategorised",
        help="uncategorised (an all-zero one-hot, the default) or classes: each extra category "
        "a class of its own after the project's (class-aware variants)",
    )  # fmt: skip
    return parser


def _check_extra_options(training: dict[str, Any], variants: list[str], extra_as: str) -> None:
    """Refused before any data: pairs without a category with the category critic (they
    cannot train it); extra classes for a variant that is not class-aware (nothing would
    read them)."""
    merged = {name: _merge(training, VARIANTS[name]) for name in variants}
    if extra_as == "uncategorised":
        critics = [n for n, t in merged.items() if float(t["category_critic_weight"]) > 0]
        if critics:
            raise ParameterError(
                f"--extra-edge-maps: pairs without a category cannot train the category critic "
                f"(category_critic_weight > 0 in {', '.join(critics)}); drop one of the two, "
                "or give them classes (--extra-edge-maps-as classes)"
            )
    else:
        plain = [n for n, t in merged.items() if not t["class_aware"]]
        if plain:
            raise ParameterError(
                f"--extra-edge-maps-as classes: {', '.join(plain)} is not class-aware "
                "(class_aware: false), so the classes would be read by nothing; use "
                "class-aware variants or leave the extra edge maps uncategorised"
            )


def _edge_map_shards(
    catalog: Any, extra: Path | None, manifest: dict[str, Any], extra_as: str
) -> tuple[ShardLoaders, dict[str, Any]]:
    """The run's edge-map shards, with those of ``--extra-edge-maps`` when given, and the
    manifest training reads its categories from (with the extra ones as classes)."""
    own = catalog.load("edge_map_shards") if catalog.exists("edge_map_shards") else {}
    if extra is None:
        return own, manifest
    first_class = len(manifest["categories"]) if extra_as == "classes" else None
    shards = extra_edge_maps(extra, own, first_class)
    if first_class is not None:
        manifest = {**manifest, "categories": [*manifest["categories"], *extra_categories(shards)]}
    return {**own, **shards}, manifest


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; known: {sorted(VARIANTS)}")
    out = args.out.resolve()
    extra = args.extra_edge_maps.resolve() if args.extra_edge_maps else None
    project = args.project.resolve()
    os.chdir(project)  # the catalog's file paths are relative to the project
    context = _project_context(project, args.env)
    catalog, params = context.catalog, context.params
    try:
        training = _checked_training(params["training"], args.variants, args.set)
        if extra is not None:
            _check_extra_options(training, args.variants, args.extra_edge_maps_as)
    except ParameterError as exc:
        parser.error(str(exc))
    if not catalog.exists("pairs_manifest"):
        parser.error(f"no pair shards in {project}: run `kedro run --env {args.env}` there first")
    manifest = catalog.load("pairs_manifest")
    pair_shards = catalog.load("pair_shards")
    try:
        edge_map_shards, training_manifest = _edge_map_shards(
            catalog, extra, manifest, args.extra_edge_maps_as
        )
    except ValueError as exc:
        parser.error(str(exc))
    judges = (
        *_pipeline_judge(catalog, pair_shards, params["evaluation"]),
        catalog.load("sketch_classifier") if catalog.exists("sketch_classifier") else None,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    settings_set = {
        **dict(i.partition("=")[::2] for i in args.set),
        **(
            {"extra_edge_maps": str(extra), "extra_edge_maps_as": args.extra_edge_maps_as}
            if extra
            else {}
        ),
    }
    tags = {
        **run_tags(
            env=args.env,
            categories=manifest["categories"],
            image_size=training["image_size"],
            data_source=manifest.get("source"),
        ),
        "harness": "experiments",
    }
    parent_name = (
        f"experiments: {run_name(args.env, training['image_size'], manifest['categories'])}"
    )
    rows = []
    # kedro-mlflow's hook (load_context above) pointed MLflow at the project's store and experiment
    with mlflow.start_run(run_name=parent_name) as parent:
        label_run(parent.info.run_id, parent_name, tags)
        mlflow.log_params({"variants": ",".join(args.variants), **{f"set.{k}": v for k, v in settings_set.items()}})  # fmt: skip
        log_shards_dataset(pair_shards, manifest)
        for name in args.variants:
            variant = _merge(training, VARIANTS[name])
            with mlflow.start_run(run_name=name, nested=True) as child:
                child_name = run_name(name, variant["image_size"], manifest["categories"])
                label_run(child.info.run_id, child_name, {**tags, "image_size": str(variant["image_size"]), "variant": name})  # fmt: skip
                mlflow.log_params(flatten(variant, "training"))
                row = run_variant(
                    name,
                    variant,
                    manifest,
                    (pair_shards, edge_map_shards),
                    judges,
                    params["evaluation"],
                    out,
                    training_manifest,
                )
                row["settings"] = {**VARIANTS[name], **settings_set}
                row["mlflow_run_id"] = child.info.run_id
                mlflow.set_tag("variant_settings", json.dumps(row["settings"]))
            print(json.dumps(row), flush=True)  # noqa: T201
            with out.open("a", encoding="utf-8") as file:
                file.write(json.dumps(row) + "\n")
            rows.append(row)
        mlflow.log_text("".join(json.dumps(r) + "\n" for r in rows), "experiments.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
