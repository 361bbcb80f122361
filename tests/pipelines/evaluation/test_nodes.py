"""Evaluation nodes on small real shards from the project's synthetic generator: the
faithfulness judge, class-aware evaluation, registration and the champion rule against the
registry (the full run is in test_training_run; the report logic on hand-made numbers is in
tests/evaluation)."""

from __future__ import annotations

import keras
import mlflow
import numpy as np
import pytest
from PIL import Image

from sketch_to_photo.data.pairs import shard_labels, split_shards
from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.evaluation.baselines import GUESSED, mean_training_photo
from sketch_to_photo.mlops import generator_registration
from sketch_to_photo.mlops.model_registry import CHAMPION
from sketch_to_photo.models.classifier import build_small_classifier
from sketch_to_photo.models.data import unique_photos
from sketch_to_photo.models.faithfulness import judge_predictions
from sketch_to_photo.pipelines.evaluation.nodes import (
    evaluate_generator,
    register_generator,
    train_faithfulness_judge,
)
from tests.conftest import DATA_PIPELINES, SMALL_RUN, make_project, mlflow_store, run_from_project

# ---- on real shards of the synthetic data -----------------------------------------------

# 8 photos per category: 2 test (testset.txt), 1 validation, 5 train.
DATA = {
    **SMALL_RUN,
    "acquisition": {"synthetic": {**SMALL_RUN["acquisition"]["synthetic"], "photos_per_category": 8}},
}  # fmt: skip
EVALUATION = {
    "batch_size": 16,
    "grid_per_category": 1,
    "fid_weights": "none",
    "seed": 42,
    "perceptual": {"vgg_weights": "none", "layers": ["block1_conv2", "block2_conv2"]},
    "faithfulness": {
        "weights": "none", "image_size": 32, "epochs": 40, "batch_size": 8,
        "learning_rate": 1e-3, "seed": 0, "ensemble": 1,
    },
    "champion_metric": "test_faithfulness",
    "champion_tie_break": "test_l1",
}  # fmt: skip
SIZE = 32  # the toy generators' size (shards are stored at 64)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Pair shards of a small synthetic dataset, made by the data pipelines."""
    root = make_project(tmp_path_factory.mktemp("evaluation") / "project")
    run_from_project(root, DATA_PIPELINES, DATA)
    return NpzShardsDataset(path=str(root / "data" / "05_model_input" / "pairs")).load()


@pytest.fixture(scope="module")
def judge(shards) -> tuple[keras.Model, dict]:
    return train_faithfulness_judge(shards, EVALUATION)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory):
    """A real SQLite MLflow store, as kedro-mlflow uses it (one run per test)."""
    with mlflow_store(tmp_path_factory.mktemp("mlflow"), "evaluation") as client:
        yield client


def _constant_generator(photo: np.ndarray) -> keras.Model:
    """Ignores the sketch and draws ``photo``: zero kernel, the photo as the bias."""
    inputs = keras.Input((SIZE, SIZE, 3), name="sketch")
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    x = keras.layers.Dense(
        SIZE * SIZE * 3, kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(photo.reshape(-1)),
    )(x)  # fmt: skip
    return keras.Model(inputs, keras.layers.Reshape((SIZE, SIZE, 3))(x), name="mean_photo_copy")


def _class_aware_generator(num_classes: int) -> keras.Model:
    sketch = keras.Input((SIZE, SIZE, 3), name="sketch")
    category = keras.Input((num_classes,), name="category")
    drawn = keras.layers.Conv2D(3, 3, padding="same")(sketch)
    colour = keras.layers.Reshape((SIZE, SIZE, 3))(keras.layers.Dense(SIZE * SIZE * 3)(category))
    photo = keras.layers.Activation("tanh")(keras.layers.Add()([drawn, colour]))
    return keras.Model([sketch, category], photo, name="class_aware_toy")


def test_unique_photos_are_one_per_photo_with_their_labels(shards):
    photos, labels, ids = unique_photos(split_shards(shards, "train"), image_size=SIZE)
    assert len(ids) == len(set(ids.tolist())) == len(photos) == len(labels) == 4 * 5
    assert photos.shape[1:] == (SIZE, SIZE, 3) and photos.min() >= -1 and photos.max() <= 1
    assert np.bincount(labels).tolist() == [5, 5, 5, 5]


def test_judge_recognises_real_photos_and_scores_the_mean_photo_at_one_class_rate(shards, judge):
    model, summary = judge
    assert summary["backbone"] == "small_cnn" and summary["weights"] == "random"
    assert summary["train_photos"] == 20 and summary["num_classes"] == 4
    assert summary["train_accuracy"] == 1.0  # inference mode: the batch-norm statistics hold
    # 5 train photos per category, unseen test photos of other colours: well above chance.
    photos, labels, _ = unique_photos(split_shards(shards, "test"), image_size=SIZE)
    assert np.mean(judge_predictions(model, photos) == labels) >= 0.5  # chance is 0.25
    mean_photo = mean_training_photo(split_shards(shards, "train"), SIZE)
    (called,) = judge_predictions(model, mean_photo[None])
    # The mean photo is one image: right for exactly the pairs of the class it is called.
    report, _, _ = evaluate_generator(
        _constant_generator(mean_photo), shards, model, summary, build_small_classifier(4, 32), EVALUATION
    )  # fmt: skip
    pairs = {c: v["pairs"] for c, v in report["per_category"].items()}
    called_name = next(c for c, i in shard_labels(shards).items() if i == called)
    majority_rate = max(pairs.values()) / sum(pairs.values())
    assert report["faithfulness_table"]["mean_photo"] == pytest.approx(
        pairs[called_name] / sum(pairs.values())
    )
    assert report["faithfulness_table"]["mean_photo"] <= majority_rate
    assert report["faithfulness_real_photos"] >= 0.5


def test_report_metrics_and_grid_carry_faithfulness(shards, judge):
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 3, padding="same", activation="tanh")]
    )
    report, metrics, grid = evaluate_generator(
        generator, shards, *judge, build_small_classifier(4, 32), EVALUATION
    )
    assert report["class_aware"] is False and report["faithfulness_guessed_category"] is None
    for key in (
        "faithfulness",
        "faithfulness_real_photos",
        "faithfulness_table",
        "faithfulness_judge",
    ):
        assert key in report, key
    table = report["faithfulness_table"]
    assert (
        report["faithfulness"] == table["generated"] == report["overall"]["model"]["faithfulness"]
    )
    assert set(table["per_category"]) == {"car_(sedan)", "strawberry", "teapot", "teddy_bear"}
    assert "faithfulness" in report["beats_baselines"]
    assert {
        "test_faithfulness", "test_faithfulness_real_photos", "baseline_untrained_faithfulness",
        "baseline_mean_photo_faithfulness", "test_teddy_bear_faithfulness", "test_car_sedan_faithfulness",
    } <= set(metrics)  # fmt: skip
    assert "test_faithfulness_guessed_category" not in metrics
    assert isinstance(grid, Image.Image) and grid.height > 4 * (SIZE + 4)  # title lines added


def test_class_aware_generator_gets_true_and_guessed_category_scores(shards, judge):
    keras.utils.set_random_seed(0)
    classifier = build_small_classifier(4, 48)  # another input size than the generator's
    report, metrics, _ = evaluate_generator(
        _class_aware_generator(4), shards, *judge, classifier, EVALUATION
    )
    assert report["class_aware"] is True
    assert 0 <= report["faithfulness_guessed_category"] <= 1
    assert report["faithfulness"] == report["faithfulness_table"]["generated"]
    assert 0 <= report["sketch_classifier_test_accuracy"] <= 1
    assert {"test_faithfulness", "test_faithfulness_guessed_category"} <= set(metrics)
    assert set(report["overall"]) >= {"model", GUESSED, "untrained", "mean_photo"}
    per_category = report["faithfulness_table"]["per_category"]["teapot"]
    assert "generated_guessed_category" in per_category


def test_a_generator_no_better_than_the_mean_photo_is_registered_but_never_champion(
    shards, judge, tracking
):
    mean_photo = mean_training_photo(split_shards(shards, "train"), SIZE)
    generator = _constant_generator(mean_photo)
    report, metrics, _ = evaluate_generator(
        generator, shards, *judge, build_small_classifier(4, 32), EVALUATION
    )
    history = {"epochs": 3, "train_pairs": 70, "validation_pairs": 14}
    with mlflow.start_run():
        mlflow.log_metrics({name: m["value"] for name, m in metrics.items()})
        registration = register_generator(
            generator, report, history, EVALUATION,
            {"source": "synthetic", "categories": ["car_(sedan)", "strawberry", "teapot", "teddy_bear"]},
        )  # fmt: skip
    assert registration["promoted"] is False and registration["champion_eligible"] is False
    assert registration["ineligible_reason"].startswith("test_faithfulness ")
    assert "does not beat the mean photo's" in registration["ineligible_reason"]
    version = str(registration["version"])
    tags = tracking.get_model_version(generator_registration.REGISTERED_GENERATOR, version).tags
    assert tags["champion_eligible"] == "False"
    assert tags["champion_ineligible_reason"] == registration["ineligible_reason"]
    with pytest.raises(mlflow.exceptions.MlflowException):
        tracking.get_model_version_by_alias(generator_registration.REGISTERED_GENERATOR, CHAMPION)
    info = mlflow.models.get_model_info(registration["model_uri"])
    assert info.metadata["class_aware"] is False and info.metadata["image_size"] == SIZE
    assert info.metadata["training"] == {"data_source": "synthetic", **history}
    assert info.metadata["test_pairs"] == report["test_pairs"]
    assert set(info.metadata["test_metrics"]) == {
        "l1", "ssim", "psnr", "faithfulness", "faithfulness_real_photos",
        "mean_photo_faithfulness", "mean_photo_l1",
        *(f"{prefix}{name}" for prefix in ("", "real_photos_", "sketch_copy_")
          for name in ("stroke_recall", "chamfer", "fill", "photo_kid")),
    }  # fmt: skip
    assert (
        "test_stroke_recall 0.0000 does not beat the untrained's"
        in (registration["ineligible_reason"])
    )  # a constant photo has no edges: it follows no stroke
    # the model card is the version's description, its key metrics its tags
    registered = tracking.get_model_version(generator_registration.REGISTERED_GENERATOR, version)
    assert registered.description.startswith(f"Generator v{version}, ")
    assert "| **Pairs** | training 70, validation 14, test " in registered.description
    assert float(tags["faithfulness"]) == pytest.approx(report["faithfulness"], rel=1e-3)
    assert float(tags["faithfulness_mean_photo"]) == pytest.approx(
        report["faithfulness_table"]["mean_photo"], rel=1e-3
    )
    assert tags["categories"] == "car_(sedan)+strawberry+teapot+teddy_bear"
    assert tags["epochs"] == "3" and tags["data_source"] == "synthetic"


def _hand_report(faithfulness: float, l1: float) -> dict:
    model = {"l1": l1, "ssim": 0.5, "psnr": 15.0, "faithfulness": faithfulness}
    mean_photo = {"l1": 0.3, "ssim": 0.4, "psnr": 12.0, "faithfulness": 0.25}
    return {
        "class_aware": False,
        "test_pairs": 8,
        "overall": {"model": model, "mean_photo": mean_photo},
        "faithfulness_table": {
            "generated": faithfulness, "real_photos": 0.9, "mean_photo": 0.25,
            "generated_guessed_category": None,
        },
    }  # fmt: skip


def test_a_tie_on_faithfulness_is_decided_by_l1(tracking, monkeypatch):
    monkeypatch.setattr(generator_registration, "REGISTERED_GENERATOR", "tie_break")
    generator = keras.Sequential([keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 1)])
    history = {"epochs": 1, "train_pairs": 8, "validation_pairs": 2}
    decisions = []
    for faithfulness, l1 in ((0.6, 0.2), (0.6, 0.25), (0.6, 0.15), (0.55, 0.1), (0.65, 0.3)):
        with mlflow.start_run():
            mlflow.log_metrics({"test_faithfulness": faithfulness, "test_l1": l1})
            decisions.append(
                register_generator(
                    generator,
                    _hand_report(faithfulness, l1),
                    history,
                    EVALUATION,
                    {"source": "local", "categories": ["a", "b", "c", "d"]},
                )  # fmt: skip
            )
    assert [d["promoted"] for d in decisions] == [True, False, True, False, True]
    assert (
        decisions[1]["tie_break"]
        == "test_faithfulness ties champion v1 at 0.6000: decided by test_l1"
    )
    assert decisions[1]["metric"] == "test_l1" and decisions[2]["metric"] == "test_l1"
    assert "tie_break" not in decisions[3] and decisions[3]["metric"] == "test_faithfulness"
    assert int(tracking.get_model_version_by_alias("tie_break", CHAMPION).version) == 5
