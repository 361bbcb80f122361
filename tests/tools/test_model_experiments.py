"""The experiments harness on a finished tiny run: trains a variant, judges it like the pipeline."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml
from kedro.config import OmegaConfigLoader
from mlflow import MlflowClient
from PIL import Image

from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.evaluation.grid import GRID_CELL
from sketch_to_photo.mlops.tracking import EXPERIMENT_KIND_TAG, MODEL_TRAINING
from sketch_to_photo.models.callbacks import CAPTION_LINE, GUTTER, TITLE_HEIGHT
from sketch_to_photo.models.data import mixed_pair_dataset
from sketch_to_photo.parameter_models import ParameterError
from sketch_to_photo.settings import CONFIG_LOADER_ARGS
from sketch_to_photo.tools import model_experiments
from tests.conftest import PROJECT_ROOT

# The tiny run's generator, for one epoch: the harness reads conf/base, not the run's --params.
TINY_TRAINING = [
    "image_size=32", "base_filters=16", "epochs=1", "batch_size=8", "perceptual.weight=0.0",
]  # fmt: skip


@pytest.fixture
def finished_run(trained_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = tmp_path / "project"
    shutil.copytree(trained_project, project, ignore=shutil.ignore_patterns("mlruns", "*.db"))
    monkeypatch.chdir(tmp_path)  # main() moves into the project; this moves back after
    return project


def test_a_variant_is_trained_and_judged_by_the_pipelines_judge(finished_run: Path, tmp_path):
    out = tmp_path / "reports" / "experiments.jsonl"
    settings = [arg for item in TINY_TRAINING for arg in ("--set", item)]
    judge_file = finished_run / "data/06_models/faithfulness_judge.keras"
    judge_written = judge_file.stat().st_mtime_ns

    code = model_experiments.main(
        ["linear_decay", "no_edge_maps", "--env", "base", "--project", str(finished_run),
         "--out", str(out), *settings]
    )  # fmt: skip

    assert code == 0
    row, other = [json.loads(line) for line in out.read_text().splitlines()]
    assert row["variant"] == "linear_decay" and row["epochs"] == 1
    assert other["variant"] == "no_edge_maps" and other["edge_map_pairs"] == 0
    assert row["settings"]["lr_schedule"] == "linear_decay" and row["settings"]["epochs"] == "1"
    # The pipeline's judge, not a new one: its accuracy on the real test photos is the run's.
    assert judge_file.stat().st_mtime_ns == judge_written
    pipeline = json.loads((finished_run / "data/08_reporting/evaluation_metrics.json").read_text())
    assert row["real_faithfulness"] == pytest.approx(pipeline["faithfulness_real_photos"], abs=1e-3)
    # The evaluation node's numbers: the real photos' shape metrics and every baseline are the
    # pipeline's own (they do not depend on the generator).
    for metric in ("stroke_recall", "fill", "photo_kid"):
        assert row[f"real_{metric}"] == pytest.approx(pipeline["real_photos"][metric], abs=1e-3)
    for system in ("mean_photo", "sketch_copy"):
        for metric in ("stroke_recall", "photo_kid", "l1"):
            expected = pipeline["overall"][system][metric]
            assert row[f"{system}_{metric}"] == pytest.approx(expected, abs=1e-3)
    assert row["sketch_copy_stroke_recall"] > row["mean_photo_stroke_recall"]
    # Trained on the run's own pairs: the counts the training node logged for the pipeline.
    history = json.loads((finished_run / "data/06_models/training_history.json").read_text())
    assert (row["train_pairs"], row["edge_map_pairs"]) == (
        history["train_pairs"], history["edge_map_pairs"],
    )  # fmt: skip
    assert row["edge_map_pairs"] > 0 and other["train_pairs"] == row["train_pairs"]
    # The grid: 12 test sketches over the 4 categories, 3 each, one per photo (fewer where a
    # category has fewer test photos), rows of cells enlarged to GRID_CELL pixels.
    shards = NpzShardsDataset(path=str(finished_run / "data/05_model_input/pairs")).load()
    photos: dict[str, set[str]] = {}
    for name, load in shards.items():
        if name.replace("\\", "/").startswith("test/"):
            shard = load()
            for category, photo_id in zip(shard["categories"], shard["photo_ids"], strict=True):
                photos.setdefault(str(category), set()).add(str(photo_id))
    assert len(photos) == 4
    rows = sum(min(3, len(ids)) for ids in photos.values())
    grid = Image.open(out.with_name("experiments_linear_decay.png"))
    title_lines, cell = 3, GRID_CELL  # 32 px images shown 4x
    top = title_lines * CAPTION_LINE + GUTTER + TITLE_HEIGHT + GUTTER
    assert (grid.height - top) == rows * (cell + GUTTER)

    _check_mlflow_runs(finished_run, [row, other])


def _check_mlflow_runs(project: Path, rows: list[dict]) -> None:
    """One parent run for the invocation in the project's store, a nested run per variant with
    its training settings as params and its row as metrics: what Compare puts side by side."""
    uri = f"sqlite:///{project.resolve() / 'mlflow.db'}"
    client = MlflowClient(uri, uri)
    experiment = client.get_experiment_by_name("sketch_to_photo")  # mlflow.yml's experiment
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    runs = client.search_runs([experiment.experiment_id])
    (parent,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = {r.data.tags["variant"]: r for r in runs if r is not parent}
    categories = "car_(sedan)+strawberry+teapot+teddy_bear"
    assert parent.info.run_name == f"experiments: base 32px {categories}"
    assert parent.data.params["variants"] == "linear_decay,no_edge_maps"
    assert set(children) == {"linear_decay", "no_edge_maps"}
    for row in rows:
        child = children[row["variant"]]
        assert row["mlflow_run_id"] == child.info.run_id
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.info.run_name == f"{row['variant']} 32px {categories}"
        params = child.data.params
        assert params["training.image_size"] == "32" and params["training.epochs"] == "1"
        metrics = child.data.metrics
        for name in ("model_faithfulness", "model_l1", "mean_photo_l1", "real_faithfulness",
                     "sketch_copy_stroke_recall", "seconds", "train_pairs"):  # fmt: skip
            assert metrics[name] == pytest.approx(row[name]), name
        assert metrics["headline/faithfulness"] == pytest.approx(
            row["model_faithfulness"], abs=1e-4
        )
        assert metrics["headline/l1_mean_photo"] == pytest.approx(row["mean_photo_l1"], abs=1e-4)
        assert "result_grid.png" in {f.path for f in client.list_artifacts(child.info.run_id)}
        names = {i.dataset.name for i in child.inputs.dataset_inputs}
        assert f"synthetic pairs {categories}" in names
    assert children["linear_decay"].data.params["training.lr_schedule"] == "linear_decay"
    assert children["no_edge_maps"].data.params["training.edge_maps.enabled"] == "False"
    assert "val_l1" in children["linear_decay"].data.metrics  # the per-epoch curves too


def test_an_unknown_variant_is_refused_before_anything_runs(finished_run: Path, capsys):
    with pytest.raises(SystemExit):
        model_experiments.main(["cosine_decay", "--project", str(finished_run)])
    assert "unknown variant(s) ['cosine_decay']" in capsys.readouterr().err


def _training() -> dict:
    """The training parameters of conf/base, as the harness reads them."""
    return yaml.safe_load((PROJECT_ROOT / "conf/base/parameters_training.yml").read_text())[
        "training"
    ]


def test_set_values_are_read_like_kedro_run_params_and_reach_into_groups():
    training = _training()
    changed = model_experiments.apply_settings(
        training, ["epochs=3", "perceptual.weight=0", "edge_maps.enabled=false", "jit_compile=auto"]
    )
    assert changed["epochs"] == 3 and changed["jit_compile"] == "auto"
    assert changed["perceptual"] == {**training["perceptual"], "weight": 0}
    assert changed["edge_maps"]["enabled"] is False
    assert training["epochs"] != 3  # the environment's parameters are left as they were


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("epohcs=3", "training.epohcs: unknown key; did you mean 'epochs'?"),
        ("perceptual.wieght=0", "training.perceptual.wieght: unknown key; did you mean 'weight'?"),
        ("epochs=ten", "training.epochs = 'ten': must be a valid integer"),
        ("image_size=48", "training.image_size = 48: must be a power of two from 32 to 1024"),
        ("lr_schedule=cosine", "training.lr_schedule = 'cosine': must be 'constant' or"),
        ("epochs", "--set 'epochs': write KEY=VALUE"),
    ],
)
def test_a_wrong_set_key_or_value_is_an_error_naming_it(setting, named):
    with pytest.raises(ParameterError, match=re.escape(named)):
        model_experiments.apply_settings(_training(), [setting])


def test_a_wrong_set_stops_the_harness_before_it_reads_any_data(project, capsys):
    # a fresh project has no shards: without the check, the error would be about those
    with pytest.raises(SystemExit) as raised:
        model_experiments.main(
            ["base", "--env", "base", "--project", str(project), "--set", "epohcs=3"]
        )
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "Invalid parameters (--set, over the environment's training)" in error
    assert "training.epohcs: unknown key; did you mean 'epochs'?" in error
    assert "no pair shards" not in error


def test_a_set_key_that_a_variant_sets_itself_is_refused_before_any_data(project, capsys):
    # the variant's value would win while the results' row recorded the --set one
    with pytest.raises(SystemExit) as raised:
        model_experiments.main(
            ["base", "r1_0.1", "--env", "base", "--project", str(project),
             "--set", "r1_weight=0.01", "--set", "epochs=2"]
        )  # fmt: skip
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "--set r1_weight: variant r1_0.1 sets it itself (r1_weight=0.1)" in error
    assert "no pair shards" not in error


def test_every_variant_is_a_valid_change_of_the_training_parameters():
    # a variant naming a key the parameters do not have (or no longer have) would stop the
    # harness; checked here for all of them at once, as the harness checks those it is given
    training = model_experiments._checked_training(
        _training(), list(model_experiments.VARIANTS), []
    )
    assert training == _training()
    assert model_experiments.VARIANTS["sketch_to_photo"] == {"pair_alignment": "sketch_to_photo"}


def test_two_timescales_trains_the_discriminator_at_twice_the_recipes_generator_rate():
    # SketchyGAN's two time-scales; the rate was once taken from the sketch classifier's
    # parameters and the discriminator ran at 20 times the generator's rate
    loader_args = {**CONFIG_LOADER_ARGS, "default_run_env": "cpu_real"}  # the project's merge
    config = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), **loader_args)
    recipe_rate = config["parameters"]["training"]["learning_rate"]
    discriminator_rate = model_experiments.VARIANTS["two_timescales"]["discriminator_learning_rate"]
    assert discriminator_rate == pytest.approx(2 * recipe_rate)


def _edge_shard(folder: Path, name: str, level: int, label: int, size: int = 6) -> None:
    """An edge-map shard in the pair shards' format whose sketches are all grey ``level``
    (tells the stream a pair came from) and whose pairs have category label ``label``."""
    (folder / "train").mkdir(parents=True, exist_ok=True)
    images = np.full((size, 64, 64, 3), level, np.uint8)
    ids = np.array([f"{name}_{i}" for i in range(size)])
    np.savez_compressed(
        folder / "train" / f"{name}.npz",
        sketches=images, photos=images, masks=np.ones((size, 64, 64), np.uint8),
        sketch_ids=ids, photo_ids=ids, categories=np.array([name.rsplit("-", 1)[0]] * size),
        labels=np.full(size, label, np.int16), segmentation_fallback=np.zeros(size, bool),
        dropped_unreadable_ids=np.array([], dtype="<U1"),
        dropped_segmentation_ids=np.array([], dtype="<U1"),
    )  # fmt: skip


def test_extra_edge_maps_join_the_stream_without_a_category(tmp_path: Path):
    _edge_shard(tmp_path / "own", "teapot-00000", 0, label=1)
    _edge_shard(tmp_path / "other", "ape-00000", 255, label=0)  # label 0 in its own project
    _edge_shard(tmp_path / "other", "apple-00000", 255, label=1)
    own = NpzShardsDataset(path=str(tmp_path / "own")).load()

    extra = model_experiments.extra_edge_maps(tmp_path / "other", own)

    assert sorted(extra) == ["train/ape-00000", "train/apple-00000"]
    shard = extra["train/ape-00000"]()
    assert shard.length("sketch_ids") == 6 and (shard["sketches"] == 255).all()
    assert (shard["labels"] == model_experiments.NO_CATEGORY).all()
    # Through the training input: a class-aware batch gives the own pairs their category and
    # the extra ones an all-zero one-hot.
    dataset = mixed_pair_dataset(
        own, {**own, **extra}, tf.Variable(0.0), image_size=32, batch_size=64, jitter=False,
        flip=False, num_classes=2, seed=1,
    )  # fmt: skip
    (sketches, categories), _ = next(iter(dataset))
    from_extra = sketches.numpy().mean(axis=(1, 2, 3)) > 0  # white sketches: the extra pairs
    assert 0 < from_extra.sum() < len(from_extra)
    np.testing.assert_array_equal(categories.numpy()[from_extra], 0.0)
    np.testing.assert_array_equal(
        categories.numpy()[~from_extra], [[0.0, 1.0]] * (~from_extra).sum()
    )


def test_extra_edge_maps_as_classes_of_their_own(tmp_path: Path):
    _edge_shard(tmp_path / "own", "teapot-00000", 0, label=1)
    _edge_shard(tmp_path / "other", "apple-00000", 255, label=0)
    _edge_shard(tmp_path / "other", "ape-00000", 128, label=1)
    own = NpzShardsDataset(path=str(tmp_path / "own")).load()

    extra = model_experiments.extra_edge_maps(tmp_path / "other", own, first_class=2)

    assert model_experiments.extra_categories(extra) == ["ape", "apple"]
    assert (extra["train/ape-00000"]()["labels"] == 2).all()  # sorted: ape, then apple
    assert (extra["train/apple-00000"]()["labels"] == 3).all()
    dataset = mixed_pair_dataset(
        own, {**own, **extra}, tf.Variable(0.0), image_size=32, batch_size=64, jitter=False,
        flip=False, num_classes=4, seed=1,
    )  # fmt: skip
    (sketches, categories), _ = next(iter(dataset))
    mean = sketches.numpy().mean(axis=(1, 2, 3))  # -1 own, 1 apple, about 0 ape
    expected = np.where(mean > 0.5, 3, np.where(mean > -0.5, 2, 1))
    assert set(expected) == {1, 2, 3}
    np.testing.assert_array_equal(categories.numpy(), np.eye(4)[expected])


def test_extra_edge_maps_as_classes_need_a_class_aware_variant(project, tmp_path, capsys):
    with pytest.raises(SystemExit) as raised:
        model_experiments.main(
            ["base", "edge_maps_not_class_aware", "--env", "cpu_real", "--project", str(project),
             "--extra-edge-maps", str(tmp_path / "other"), "--extra-edge-maps-as", "classes"]
        )  # fmt: skip
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert "--extra-edge-maps-as classes: edge_maps_not_class_aware is not class-aware" in error
    assert "no pair shards" not in error


def test_extra_edge_maps_of_a_category_of_the_project_are_refused(tmp_path: Path):
    _edge_shard(tmp_path / "own", "teapot-00000", 0, label=1)
    _edge_shard(tmp_path / "other", "teapot-00000", 255, label=0)
    own = NpzShardsDataset(path=str(tmp_path / "own")).load()
    with pytest.raises(ValueError, match=re.escape("train/teapot-00000 also in this project")):
        model_experiments.extra_edge_maps(tmp_path / "other", own)
    # the wrong folder: one level too deep, an empty one, none
    with pytest.raises(ValueError, match=re.escape("teapot-00000.npz is in no split folder")):
        model_experiments.extra_edge_maps(tmp_path / "own" / "train", own)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no train edge-map shards there"):
        model_experiments.extra_edge_maps(tmp_path / "empty", own)
    with pytest.raises(ValueError, match="missing: no such folder"):
        model_experiments.extra_edge_maps(tmp_path / "missing", own)


def test_extra_edge_maps_with_the_category_critic_are_refused_before_any_data(
    project, tmp_path, capsys
):
    with pytest.raises(SystemExit) as raised:
        model_experiments.main(
            ["base", "category_critic", "--env", "base", "--project", str(project),
             "--extra-edge-maps", str(tmp_path / "other")]
        )  # fmt: skip
    assert raised.value.code == 2
    error = capsys.readouterr().err
    assert (
        "cannot train the category critic (category_critic_weight > 0 in category_critic)" in error
    )
    assert "no pair shards" not in error
