"""sketch_classifier nodes on small synthetic Sketchy data: learning, backbone choice, gating."""

from __future__ import annotations

from pathlib import Path

import cv2
import keras
import mlflow
import numpy as np
import pytest
import tensorflow as tf

from sketch_to_photo.data.pairs import shard_name
from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.data.sketchy.synthetic import (
    SUPPORTED_CATEGORIES,
    SyntheticConfig,
    generate_synthetic_sketchy,
)
from sketch_to_photo.datasets import NpzShardsDataset
from sketch_to_photo.mlops.model_registry import CHAMPION
from sketch_to_photo.models import perceptual
from sketch_to_photo.models.classifier import build_small_classifier
from sketch_to_photo.pipelines.sketch_classifier.nodes import (
    REGISTERED_CLASSIFIER,
    _stroke_and_erasing,
    choose_backbone,
    evaluate_sketch_classifier,
    register_sketch_classifier,
    train_sketch_classifier,
)
from tests.conftest import mlflow_store

# Keras' weight saving under NumPy 2 (not this code).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CATEGORIES = list(SUPPORTED_CATEGORIES)  # conf/base/globals.yml's four
MANIFEST = {"categories": CATEGORIES}  # what the nodes read of pairs_manifest
TINY = {
    "backbone": "small",
    "vgg_weights": "none",
    "image_size": 32,
    "widths": [16, 32, 64],
    "dropout": 0.1,
    "augment": True,
    "batch_size": 8,
    "epochs": 15,
    "learning_rate": 3.0e-3,
    "lr_schedule": "cosine",
    "label_smoothing": 0.0,
    "seed": 3,
}


# More photos than the shared tiny tree: a classifier needs a few hundred steps to learn and
# for its batch-norm moving statistics to follow.
SYNTHETIC = SyntheticConfig(
    photos_per_category=10, sketches_per_photo=(4, 5), image_size=64, seed=11
)


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Pair shards of synthetic Sketchy sketches, split by photo: per category, six photos
    train, one validates, three test (what the classifier reads: sketches, labels, ids)."""
    synthetic_tree = tmp_path_factory.mktemp("synthetic") / "sketchy"
    generate_synthetic_sketchy(synthetic_tree, SYNTHETIC, progress=False)
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for label, category in enumerate(CATEGORIES):
        files = sorted(
            (synthetic_tree / layout.SKETCH_ROOT / "tx_000000000000" / category).glob("*.png")
        )
        photos = sorted({layout.photo_id_of(f.stem) for f in files})
        split_of = {p: "train" for p in photos[:-4]} | {photos[-4]: "validation"}
        split_of |= {p: "test" for p in photos[-3:]}
        for split in ("train", "validation", "test"):
            chosen = [f for f in files if split_of[layout.photo_id_of(f.stem)] == split]
            sketches = np.stack([cv2.imread(str(f))[..., ::-1] for f in chosen])
            arrays[shard_name(split, category, 0)] = {
                "sketches": sketches,
                "photos": np.full_like(sketches, 255),
                "labels": np.full(len(chosen), label, np.int64),
                "categories": np.array([category] * len(chosen)),
                "sketch_ids": np.array([f.stem for f in chosen]),
                "photo_ids": np.array([layout.photo_id_of(f.stem) for f in chosen]),
            }
    dataset = NpzShardsDataset(path=str(tmp_path_factory.mktemp("shards") / "pairs"))
    dataset.save(arrays)
    return dataset.load()


@pytest.fixture
def tracking(tmp_path: Path):
    """A real MLflow SQLite store with its artifacts in ``tmp_path``."""
    with mlflow_store(tmp_path, "classifier") as client:
        yield client


def test_small_cnn_learns_the_synthetic_categories(shards):
    options = {**TINY, "backbone": "auto"}  # vgg_weights none: auto must take the small CNN
    model, history = train_sketch_classifier(shards, {}, options, MANIFEST)
    assert history["backbone"] == "small" and history["vgg_weights"] == "unused"
    assert model.name == "small_classifier"
    report, metrics, _ = evaluate_sketch_classifier(model, shards, options, MANIFEST)
    assert report["backbone"] == "small"
    assert report["test_sketches"] == sum(sum(row) for row in report["confusion_matrix"])
    # Held-out photos' sketches, four categories: chance is about 0.25.
    assert report["majority_class_accuracy"] < 0.4
    assert report["accuracy"] >= 0.5, report
    assert report["beats_chance"] is True
    assert (
        metrics["classifier_majority_class_accuracy"]["value"] == report["majority_class_accuracy"]
    )


def test_min_steps_raises_the_updates_of_a_small_train_split_and_nothing_else(shards):
    """A few photos per category give a handful of batches per epoch; ``min_steps`` makes
    the fit take that many optimizer updates, and leaves a larger split's epochs alone."""
    one_epoch = {**TINY, "epochs": 2}
    model, history = train_sketch_classifier(shards, {}, one_epoch, MANIFEST)
    passes = history["steps"] // 2
    assert passes == -(-history["train_sketches"] // TINY["batch_size"])
    assert int(model.optimizer.iterations.numpy()) == history["steps"]

    floor = {**one_epoch, "min_steps": 2 * passes + 10}
    model, history = train_sketch_classifier(shards, {}, floor, MANIFEST)
    assert history["steps"] == 2 * (passes + 5)
    assert int(model.optimizer.iterations.numpy()) == 2 * (passes + 5)
    assert len(history["history"]["loss"]) == 2  # still two epochs, each longer

    below = {**one_epoch, "min_steps": passes}  # already reached: unchanged
    model, history = train_sketch_classifier(shards, {}, below, MANIFEST)
    assert int(model.optimizer.iterations.numpy()) == 2 * passes


def test_auto_takes_the_small_cnn_without_pretrained_vgg_weights(tmp_path, monkeypatch):
    (tmp_path / "keras").mkdir()  # an empty Keras cache, and the download cannot connect
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(perceptual, "VGG_NOTOP_URL", "http://127.0.0.1:9/vgg16.h5")
    monkeypatch.setattr(perceptual, "CONNECT_TIMEOUT_S", 1.0)
    for weights in ("auto", "imagenet", "none"):
        backbone, vgg, note = choose_backbone({"backbone": "auto", "vgg_weights": weights})
        assert (backbone, vgg) == ("small", None), note
    assert choose_backbone({"backbone": "small", "vgg_weights": "imagenet"})[0] == "small"
    backbone, vgg, _ = choose_backbone({"backbone": "vgg16", "vgg_weights": "none"})
    assert backbone == "vgg16" and vgg.source == "random"  # asked for explicitly
    local = tmp_path / "vgg16_notop.h5"
    local.write_bytes(b"")  # resolving checks the file exists, loading happens later
    backbone, vgg, _ = choose_backbone({"backbone": "auto", "vgg_weights": str(local)})
    assert backbone == "vgg16" and vgg.source == "file"
    with pytest.raises(ValueError, match="backbone"):
        choose_backbone({"backbone": "resnet"})


def _always(label: int, num_classes: int) -> keras.Model:
    """A small CNN that answers ``label`` for every input."""
    model = build_small_classifier(num_classes, 32, widths=(4,), augment=False)
    dense = model.get_layer("probabilities")
    kernel, bias = dense.get_weights()
    bias[:] = 0.0
    bias[label] = 10.0
    dense.set_weights([np.zeros_like(kernel), bias])
    return model


def test_a_classifier_no_better_than_the_majority_class_is_never_champion(shards, tracking):
    options = {**TINY, "image_size": 32}
    report, _, _ = evaluate_sketch_classifier(_always(0, 4), shards, options, MANIFEST)
    counts = np.asarray(report["confusion_matrix"]).sum(axis=1)
    assert report["accuracy"] == pytest.approx(counts[0] / counts.sum())
    assert report["majority_class_accuracy"] == pytest.approx(counts.max() / counts.sum())
    assert report["beats_chance"] is False

    with mlflow.start_run():
        decision = register_sketch_classifier(_always(0, 4), report, MANIFEST)
    assert decision["promoted"] is False and "not eligible" in decision["reason"]
    assert "most frequent test category" in decision["reason"]
    assert "train longer" in decision["reason"]
    registered = tracking.get_model_version(REGISTERED_CLASSIFIER, "1")
    tags = registered.tags
    assert tags["champion_eligible"] == "False"
    # its model card is the version's description, its accuracy a tag
    assert registered.description.startswith("Sketch classifier v1, ")
    assert f"| **Test accuracy** | {report['accuracy']:.0%} of " in registered.description
    assert float(tags["accuracy"]) == pytest.approx(report["accuracy"], rel=1e-3)
    assert float(tags["accuracy_majority_class"]) == pytest.approx(
        report["majority_class_accuracy"], rel=1e-3
    )
    with pytest.raises(mlflow.exceptions.MlflowException):
        tracking.get_model_version_by_alias(REGISTERED_CLASSIFIER, CHAMPION)

    better = {**report, "accuracy": 0.9, "beats_chance": True}
    with mlflow.start_run():
        decision = register_sketch_classifier(_always(0, 4), better, MANIFEST)
    assert decision["promoted"] is True
    assert (
        tracking.get_model_version(REGISTERED_CLASSIFIER, "2").tags["champion_eligible"] == "True"
    )
    assert int(tracking.get_model_version_by_alias(REGISTERED_CLASSIFIER, CHAMPION).version) == 2


def test_stroke_thickness_and_erasing_change_sketches_as_intended():
    image = np.ones((1, 16, 16, 3), np.float32)
    image[:, 8, 2:14] = -1.0  # one dark horizontal stroke, one pixel thick
    batch = tf.constant(np.repeat(image, 64, axis=0))
    labels = tf.zeros(64, tf.int32)
    stroked, _ = _stroke_and_erasing(1.0, 0.0, seed=0)(batch, labels)
    dark = (stroked.numpy() < 0).sum(axis=(1, 2, 3)) // 3
    assert set(dark) <= {0, 14 * 3}  # thinned away or three pixels thick (3x3 filters)
    assert (dark == 0).any() and (dark == 42).any()
    erased, _ = _stroke_and_erasing(0.0, 1.0, seed=0)(batch, labels)
    assert (erased.numpy() >= batch.numpy()).all()  # erasing only paints white
    assert (erased.numpy() > batch.numpy()).any()
