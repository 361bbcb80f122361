"""What the MLflow UI shows of a run: names, tags, the dataset input and its digest, against a
real MLflow SQLite store; and the tiny default run's store as a user opens it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from sketch_to_photo.datasets import NpzShardsDataset, ResumableShard
from sketch_to_photo.hooks import MlflowRunLabelHooks
from sketch_to_photo.mlops.tracking import (
    EXPERIMENT_KIND_TAG,
    MODEL_TRAINING,
    categories_label,
    label_run,
    log_shards_dataset,
    run_name,
    runs_list_url,
    shards_dataset,
    shards_digest,
)
from tests.conftest import mlflow_store

SKETCHY_122 = [f"category_{i:03d}" for i in range(122)]
MANIFEST = {"source": "local", "root": "/data/sketchy", "categories": ["alarm_clock", "ant"]}


def _pairs(n: int, value: int) -> dict[str, np.ndarray]:
    return {
        "sketches": np.full((n, 8, 8, 3), value, np.uint8),
        "sketch_ids": np.array([f"s{i}" for i in range(n)], dtype=np.str_),
    }


def _save(
    folder: Path,
    *,
    fingerprinted: bool = True,
    changed: dict[str, str] | None = None,
    value: int = 7,
) -> dict:
    """Pair shards of alarm_clock (3/1/1 pairs) and ant (2/1/0) under ``folder``, with
    fingerprints (ResumableShard, as data_processing writes them; ``changed`` gives some
    shards another one) or without."""
    counts = {"train/alarm_clock-00000": 3, "validation/alarm_clock-00000": 1,
              "test/alarm_clock-00000": 1, "train/ant-00000": 2, "validation/ant-00000": 1}  # fmt: skip
    shards = {}
    for name, n in counts.items():
        arrays = _pairs(n, value)
        fingerprint = (changed or {}).get(name, f"fp-{name}")
        shards[name] = ResumableShard(fingerprint, lambda a=arrays: a) if fingerprinted else arrays
    dataset = NpzShardsDataset(path=str(folder))
    dataset.save(shards)
    return dataset.load()


def test_a_run_name_says_what_ran_and_stays_short():
    assert run_name("cpu_real", 64, ["alarm_clock", "ant"]) == "cpu_real 64px alarm_clock+ant"
    four = ["car_(sedan)", "strawberry", "teapot", "teddy_bear"]
    assert categories_label(four) == "car_(sedan)+strawberry+teapot+teddy_bear"
    assert run_name("sketchy", 256, SKETCHY_122) == "sketchy 256px 122 categories"
    assert categories_label(["a", "b", "c", "d", "e"]) == "5 categories"
    assert categories_label(["hot-air_balloon", "jack-o-lantern", "wine_bottle", "wheelchair"]) == (
        "4 categories"  # four names, but too long for a run list's column
    )
    assert runs_list_url("http://127.0.0.1:5000/", "3") == (
        "http://127.0.0.1:5000/#/experiments/3/runs?workflowType=machine_learning"
    )


def test_the_hook_names_the_run_from_the_environment_and_parameters():
    hooks = MlflowRunLabelHooks()
    hooks._env, hooks._parameters = (
        "cpu_real",
        {
            "index": {"categories": ["alarm_clock", "ant"]},
            "training": {"image_size": 64},
            "acquisition": {"source": "local"},
        },
    )
    name, tags = hooks.describe(["__default__"])
    assert name == "cpu_real 64px alarm_clock+ant"
    assert tags == {
        "env": "cpu_real", "categories": "alarm_clock,ant", "category_count": "2",
        "image_size": "64", "data_source": "local",
    }  # fmt: skip
    assert hooks.describe(["training"])[0] == "training: cpu_real 64px alarm_clock+ant"
    hooks._env = None  # Kedro's default environment
    assert hooks.describe()[0] == "default 64px alarm_clock+ant"
    assert hooks.describe()[1]["env"] == "local"


def test_the_same_shards_give_the_same_digest_and_a_changed_shard_another(tmp_path):
    first = _save(tmp_path / "a" / "pairs")
    moved = _save(tmp_path / "b" / "pairs")  # the same data written again elsewhere
    assert shards_digest(first) == shards_digest(moved)
    changed = _save(tmp_path / "c" / "pairs", changed={"train/ant-00000": "other settings"})
    assert shards_digest(changed) != shards_digest(first)
    fewer = {name: load for name, load in first.items() if name != "validation/ant-00000"}
    assert shards_digest(fewer) != shards_digest(first)
    # shards saved without fingerprints: their content decides
    plain = _save(tmp_path / "d" / "pairs", fingerprinted=False)
    assert shards_digest(plain) == shards_digest(
        _save(tmp_path / "e" / "pairs", fingerprinted=False)
    )
    other = _save(tmp_path / "f" / "pairs", fingerprinted=False, value=8)
    assert shards_digest(other) != shards_digest(plain)


def test_the_dataset_counts_pairs_per_split_and_category(tmp_path):
    dataset = shards_dataset(_save(tmp_path / "pairs"), MANIFEST)
    assert dataset.name == "sketchy pairs alarm_clock+ant"
    assert dataset.source.uri == str((tmp_path / "pairs").resolve())
    assert dataset.profile["pairs_per_split"] == {"test": 1, "train": 5, "validation": 2}
    assert dataset.profile["pairs_per_category"] == {
        "alarm_clock": {"test": 1, "train": 3, "validation": 1},
        "ant": {"train": 2, "validation": 1},
    }
    assert dataset.profile["pairs"] == 8 and dataset.profile["root"] == "/data/sketchy"


def test_runs_get_their_name_tags_and_dataset_input_in_a_real_store(tmp_path):
    shards = _save(tmp_path / "pairs")
    with mlflow_store(tmp_path / "store", "tracking") as client:
        runs = []
        for _ in range(2):  # two runs on the same data
            with mlflow.start_run() as run:
                label_run(run.info.run_id, "cpu_real 64px alarm_clock+ant", {"env": "cpu_real"})
                logged = log_shards_dataset(shards, MANIFEST)
                log_shards_dataset(shards, MANIFEST)  # again: nothing added
                runs.append(client.get_run(run.info.run_id))
        experiment = client.get_experiment(runs[0].info.experiment_id)
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    for found in runs:
        assert found.info.run_name == "cpu_real 64px alarm_clock+ant"
        assert found.data.tags["env"] == "cpu_real"
        (dataset_input,) = found.inputs.dataset_inputs
        assert dataset_input.dataset.name == "sketchy pairs alarm_clock+ant"
        assert dataset_input.dataset.digest == logged.digest == shards_digest(shards)
        assert {t.key: t.value for t in dataset_input.tags} == {"mlflow.data.context": "training"}
        profile = json.loads(dataset_input.dataset.profile)
        assert profile["pairs_per_category"]["alarm_clock"] == {
            "test": 1,
            "train": 3,
            "validation": 1,
        }
    assert log_shards_dataset(shards, MANIFEST) is None  # no active run: nothing logged


# ---- the tiny default run's store, as a user opens it ----------------------------------


@pytest.fixture(scope="module")
def store(trained_project: Path) -> MlflowClient:
    uri = f"sqlite:///{trained_project.resolve() / 'mlflow.db'}"
    return MlflowClient(uri, uri)


def test_the_default_run_is_named_tagged_and_has_its_dataset(store, trained_project):
    experiment = store.get_experiment_by_name("sketch_to_photo")
    assert experiment.tags[EXPERIMENT_KIND_TAG] == MODEL_TRAINING
    (run,) = store.search_runs([experiment.experiment_id])
    assert run.info.run_name == "default 32px car_(sedan)+strawberry+teapot+teddy_bear"
    tags = run.data.tags
    assert (tags["env"], tags["image_size"], tags["data_source"]) == ("local", "32", "synthetic")
    assert tags["categories"] == "car_(sedan),strawberry,teapot,teddy_bear"
    datasets = {i.dataset.name: i.dataset for i in run.inputs.dataset_inputs}
    pairs = datasets["synthetic pairs car_(sedan)+strawberry+teapot+teddy_bear"]
    manifest = json.loads((trained_project / "data/05_model_input/pairs_manifest.json").read_text())
    profile = json.loads(pairs.profile)
    assert profile["pairs"] == manifest["totals"]["pairs"]
    for category, splits in manifest["counts"].items():
        expected = {split: c["pairs"] for split, c in splits.items() if c["pairs"]}
        assert profile["pairs_per_category"][category] == expected
    shards = NpzShardsDataset(path=str(trained_project / "data/05_model_input/pairs")).load()
    assert pairs.digest == shards_digest(shards)
    assert "synthetic edge maps car_(sedan)+strawberry+teapot+teddy_bear" in datasets
    metrics = run.data.metrics
    for name in ("faithfulness", "faithfulness_mean_photo", "l1", "l1_mean_photo", "ssim",
                 "stroke_recall", "photo_kid_sketch_copy", "classifier_accuracy"):  # fmt: skip
        assert f"headline/{name}" in metrics, name
    close = {"abs": 5e-5}  # rounded to four decimals
    assert metrics["headline/faithfulness"] == pytest.approx(metrics["test_faithfulness"], **close)
    assert metrics["headline/l1_mean_photo"] == pytest.approx(
        metrics["baseline_mean_photo_l1"], **close
    )
    assert metrics["headline/classifier_accuracy"] == pytest.approx(
        metrics["classifier_test_accuracy"], **close
    )


def test_every_registered_version_carries_its_model_card_and_key_metrics(store):
    (run,) = store.search_runs([store.get_experiment_by_name("sketch_to_photo").experiment_id])
    metrics = run.data.metrics
    generator = store.get_model_version("sketch_to_photo", "1")
    assert generator.description.startswith("Generator v1, ")
    for field in ("**Training data** | synthetic drawings", "**Categories** | 4: car (sedan)",
                  "**Pairs** | training ", "**Image size** | 32 x 32 pixels", "**Epochs** | 60",
                  "**Test metrics** | L1 ", "(mean training photo: ", "**Faithfulness** | "):  # fmt: skip
        assert field in generator.description, field
    assert float(generator.tags["faithfulness"]) == pytest.approx(
        metrics["test_faithfulness"], rel=1e-3
    )
    assert float(generator.tags["l1_mean_photo"]) == pytest.approx(
        metrics["baseline_mean_photo_l1"], rel=1e-3
    )
    assert generator.tags["data_source"] == "synthetic" and generator.tags["image_size"] == "32"

    classifier = store.get_model_version("sketch_category", "1")
    assert classifier.description.startswith("Sketch classifier v1, ")
    assert "**Test accuracy** | " in classifier.description
    assert "**Epochs** | 15" in classifier.description
    assert float(classifier.tags["accuracy"]) == pytest.approx(
        metrics["classifier_test_accuracy"], rel=1e-3
    )

    service = store.get_model_version("sketch_to_photo_service", "1")
    assert service.description.startswith("Serves `sketch_to_photo` v1 and the sketch classifier")
    assert generator.description in service.description  # the generator's card, as it is
    assert service.tags["faithfulness"] == generator.tags["faithfulness"]
    assert service.tags["generator_version"] == "1"


def test_copied_shards_keep_their_digest(tmp_path):
    shards = _save(tmp_path / "pairs")
    shutil.copytree(tmp_path / "pairs", tmp_path / "copy")
    copied = NpzShardsDataset(path=str(tmp_path / "copy")).load()
    assert shards_digest(copied) == shards_digest(shards)
