"""The whole default pipeline at tiny settings, through KedroSession, into a temporary
SQLite MLflow store. (A `kedro run` killed during training and resumed is one of the fault
points of tests/test_fault_injection.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from sketch_to_photo.prediction.preprocessing import generate_photo, preprocess_sketch


def _client(project: Path) -> MlflowClient:
    uri = f"sqlite:///{project.resolve() / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(uri, uri)


def test_default_run_trains_evaluates_and_registers_loadable_models(trained_project):
    project = trained_project  # the session's tiny default run (read only)
    client = _client(project)
    experiment = client.get_experiment_by_name("sketch_to_photo")
    (run_info,) = client.search_runs([experiment.experiment_id])
    assert run_info.data.params["training.image_size"] == "32"
    assert run_info.data.tags["vgg_weights"] == "random"
    history = client.get_metric_history(run_info.info.run_id, "g_loss")
    assert [m.step for m in history] == list(range(60))
    assert {
        "val_l1",
        "d_loss",
        "test_l1",
        "test_ssim",
        "baseline_mean_photo_l1",
        "classifier_test_accuracy",
    } <= set(run_info.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run_info.info.run_id)}
    assert {"result_grid.png", "evaluation_metrics.json", "samples"} <= artifacts
    samples = {a.path for a in client.list_artifacts(run_info.info.run_id, "samples")}
    assert samples == {"samples/grid_epoch_0030.png", "samples/grid_epoch_0060.png"}

    report = json.loads((project / "data" / "08_reporting" / "evaluation_metrics.json").read_text())
    assert set(report["overall"]) == {
        "model", "untrained", "mean_photo", "sketch_copy", "blurred_photos",
    }  # fmt: skip
    assert report["real_photos"]["stroke_recall"] > report["overall"]["mean_photo"]["stroke_recall"]
    assert report["fid"] is None and "disabled" in report["fid_skipped"]
    assert report["test_pairs"] == sum(v["pairs"] for v in report["per_category"].values()) > 0
    registration = json.loads(
        (project / "data" / "06_models" / "generator_registration.json").read_text()
    )
    assert registration["promoted"] and registration["version"] == 1, registration
    assert registration["metric"] == "test_faithfulness" and registration["champion_eligible"]
    assert report["faithfulness"] > report["faithfulness_table"]["mean_photo"]
    assert {"test_faithfulness", "test_faithfulness_real_photos"} <= set(run_info.data.metrics)
    card = mlflow.models.get_model_info("models:/sketch_to_photo/1").metadata
    # the pairs the data pipeline wrote for each split (its manifest), not the card's own figures
    manifest = json.loads((project / "data/05_model_input/pairs_manifest.json").read_text())
    per_split = {split: manifest["per_split"][split]["pairs"] for split in ("train", "validation")}
    assert per_split["train"] > 0 and per_split["validation"] > 0
    assert card["training"] == {
        "data_source": "synthetic", "epochs": 60,
        "train_pairs": per_split["train"], "validation_pairs": per_split["validation"],
    }  # fmt: skip
    assert (
        card["class_aware"] is False
        and card["test_metrics"]["faithfulness"] == report["faithfulness"]
    )

    generator = mlflow.keras.load_model("models:/sketch_to_photo@champion")
    sketch_file = next(
        (project / "data" / "01_raw" / "synthetic_sketchy" / "256x256" / "sketch").rglob("*.png")
    )
    photo = generate_photo(generator, sketch_file)
    assert photo.shape == (32, 32, 3) and photo.dtype == np.uint8
    classifier = mlflow.keras.load_model("models:/sketch_category@champion")
    probabilities = classifier.predict(preprocess_sketch(sketch_file, 32)[None], verbose=0)
    assert probabilities.shape == (1, 4) and probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    classifier_registration = json.loads(
        (project / "data/06_models/sketch_classifier_registration.json").read_text()
    )
    champion = client.get_model_version_by_alias("sketch_category", "champion")
    assert str(champion.version) == str(classifier_registration["version"]) == "1"
