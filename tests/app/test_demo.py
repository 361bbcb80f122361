"""The demo's logic without Streamlit: the canvas path (AppTest cannot draw), uploads, the
store's versions, the model card, class-aware generation and the test-split picker."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest

from sketch_to_photo.app.demo import (
    UNKNOWN,
    MlflowStore,
    ModelCard,
    ModelVersion,
    canvas_sketch,
    enlarge,
    held_out_pairs,
    load_registered_model,
    model_card,
    onnx_runtime_twin,
    read_upload,
    registered_versions,
)
from sketch_to_photo.mlops.model_registry import log_and_register, promote_if_better
from sketch_to_photo.prediction.onnx_runtime import OnnxModel
from sketch_to_photo.prediction.photograph import sketch_to_photo
from sketch_to_photo.prediction.preprocessing import SketchInputError
from tests.prediction.test_photograph import class_aware_generator, teapot

CATEGORIES = ["alarm_clock", "ant", "teddy_bear"]
FULL_METADATA = {
    "image_size": 32,
    "categories": CATEGORIES,
    "class_aware": True,
    "training": {
        "data_source": "sketchy", "train_pairs": 1234, "validation_pairs": 150, "epochs": 40,
    },
    "test_pairs": 163,
    "test_metrics": {
        "l1": 0.1512, "ssim": 0.4321, "psnr": 14.26, "faithfulness": 0.62,
        "faithfulness_real_photos": 0.7, "faithfulness_guessed_category": 0.55,
        "mean_photo_faithfulness": 0.33, "mean_photo_l1": 0.182,
        "stroke_recall": 0.77, "real_photos_stroke_recall": 0.64, "sketch_copy_stroke_recall": 1.0,
        "fill": 0.66, "real_photos_fill": 0.58, "sketch_copy_fill": 0.41,
        "photo_kid": 1.93, "real_photos_photo_kid": 0.1, "sketch_copy_photo_kid": 306.8,
    },
}  # fmt: skip


def version(tags: dict[str, str] | None = None) -> ModelVersion:
    return ModelVersion(
        "sketch_to_photo", 7, ("champion",), "run", "2026-12-04 10:00",
        tuple(sorted((tags or {}).items())),
    )  # fmt: skip


def canvas(strokes: bool) -> np.ndarray:
    """What st_canvas returns: RGBA, transparent where nothing is drawn."""
    rgba = np.zeros((320, 320, 4), np.uint8)
    if strokes:
        rgba[100:220, 150:156] = (0, 0, 0, 255)  # a black vertical stroke
        rgba[150:156, 80:240] = (0, 0, 0, 255)
    return rgba


def test_empty_canvas_is_no_sketch():
    assert canvas_sketch(None) is None
    assert canvas_sketch(canvas(strokes=False)) is None
    white = np.full((320, 320, 4), 255, np.uint8)  # opaque white background, nothing drawn
    assert canvas_sketch(white) is None


def test_drawn_canvas_becomes_black_strokes_on_white():
    sketch = canvas_sketch(canvas(strokes=True))
    assert sketch.shape == (320, 320, 3) and sketch.dtype == np.uint8
    assert (sketch[0, 0] == 255).all()  # transparent background -> white paper
    assert (sketch[120, 152] == 0).all()  # the stroke stays black


def test_upload_errors_name_the_file():
    with pytest.raises(SketchInputError, match=r"^notes\.txt is not an image file"):
        read_upload(b"plain text", "notes.txt")
    with pytest.raises(SketchInputError, match=r"^empty\.png is empty"):
        read_upload(b"", "empty.png")


def test_no_store_or_no_model_means_no_versions(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert registered_versions(MlflowStore(uri, uri), "sketch_to_photo") == []


def test_held_out_pairs_come_from_the_test_split_only(trained_project):
    from kedro.framework.session import KedroSession  # noqa: PLC0415

    with KedroSession.create(project_path=trained_project) as session:
        shards = session.load_context().catalog.load("pair_shards")
    pairs = held_out_pairs(shards, per_category=2)
    test_ids = {
        str(i)
        for name, load in shards.items()
        if name.startswith("test/")
        for i in load()["sketch_ids"]
    }
    assert pairs and {p.sketch_id for p in pairs} <= test_ids
    counts = {c: sum(p.category == c for p in pairs) for c in {p.category for p in pairs}}
    assert max(counts.values()) <= 2
    assert all(p.sketch.shape == p.photo.shape and p.sketch.dtype == np.uint8 for p in pairs)


def test_enlarge_keeps_pixels_sharp():
    image = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    big = enlarge(image, 8)
    assert big.shape == (8, 8, 3)
    assert (big[:4, :4] == image[0, 0]).all() and (big[4:, 4:] == image[1, 1]).all()


def test_card_of_a_version_with_full_metadata_says_everything():
    card = ModelCard.from_metadata(version(), FULL_METADATA, 32, class_aware=True)
    rows = dict(card.rows())
    assert rows["Version"].startswith("v7 (champion), 2026-12-04 10:00")
    assert rows["Training data"] == "real Sketchy photos and sketches (the official download)"
    assert rows["Categories"] == "3: alarm clock, ant and teddy bear"
    assert rows["Pairs"] == "training 1,234, validation 150, test 163"
    assert rows["Image size"] == "32 x 32 pixels"
    assert rows["Epochs"] == "40"
    assert rows["Category input"].startswith("yes")
    assert rows["Test metrics"] == (
        "L1 0.151 (mean training photo: 0.182), SSIM 0.432, PSNR 14.3 dB on 163 test pairs"
    )
    assert rows["Faithfulness"].startswith("62% of the generated test photos")
    assert "real test photos: 70%" in rows["Faithfulness"]
    assert "mean training photo: 33%" in rows["Faithfulness"]
    assert "guessed category: 55%" in rows["Faithfulness"]
    assert rows["Shape"] == (
        "stroke recall 0.77 (real test photos 0.64, a copy of the sketch 1.00); fill 0.66 (real "
        "test photos 0.58, a copy of the sketch 0.41); photo KID 1.93, lower is more photo-like "
        "(real test photos 0.10, a copy of the sketch 306.80)"
    )
    assert UNKNOWN not in "".join(rows.values())
    summary = card.summary()
    assert "real Sketchy photos (3 categories, 1,234 training pairs, 40 epochs)" in summary
    assert "32x32 pixels; 62% of its test photos" in summary


def test_the_card_as_a_registry_description_is_the_demos_card_in_markdown():
    card = ModelCard.from_metadata(version(), FULL_METADATA, 32, class_aware=True)
    description = card.description()
    assert description.startswith(card.summary() + "\n\n| | |\n|---|---|\n")
    assert description.endswith(card.table())  # the table the demo shows under its expander
    for name, value in card.rows():
        assert f"| **{name}** | {value} |" in description


def test_card_of_a_sketch_classifier():
    metadata = {
        "kind": "classifier", "categories": ["alarm_clock", "ant"], "image_size": 64,
        "backbone": "small",
        "training": {"data_source": "local", "train_pairs": 833, "validation_pairs": 96, "epochs": 20},
        "test_pairs": 103,
        "test_metrics": {"accuracy": 0.92, "majority_class_accuracy": 0.515, "chance_accuracy": 0.5},
    }  # fmt: skip
    card = ModelCard.from_metadata(version(), metadata, 64, class_aware=False)
    rows = dict(card.rows())
    assert list(rows) == [
        "Version", "Training data", "Categories", "Sketches", "Image size", "Epochs", "Backbone",
        "Test accuracy",
    ]  # fmt: skip
    assert rows["Sketches"] == "training 833, validation 96, test 103"
    assert rows["Test accuracy"] == (
        "92% of 103 test sketches put in their category (always answering the most frequent "
        "category: 52%, chance: 50%)"
    )
    assert card.summary() == (
        "Sketch classifier v7 (champion), 2026-12-04 10:00: trained on real Sketchy sketches "
        "(2 categories, 833 training sketches, 20 epochs), 64x64 pixels; it puts 92% of its test "
        "sketches in the right category."
    )


def test_card_of_an_old_version_says_what_is_unknown():
    card = ModelCard.from_metadata(
        version(), {"image_size": 64, "categories": ["teapot"]}, 64, class_aware=False
    )
    rows = dict(card.rows())
    for name in ("Training data", "Pairs", "Epochs", "Test metrics", "Faithfulness"):
        assert rows[name] == UNKNOWN, name
    assert rows["Categories"] == "1: teapot" and rows["Image size"] == "64 x 64 pixels"
    assert "trained on data that was not recorded" in card.summary()
    # partly recorded: what is there is shown, the rest is unknown
    partial = ModelCard.from_metadata(
        version(), {"training": {"data_source": "synthetic", "train_pairs": 88},
                    "test_metrics": {"l1": 0.09, "faithfulness": None}}, 64, class_aware=False,
    )  # fmt: skip
    rows = dict(partial.rows())
    assert rows["Pairs"] == "training 88, validation unknown, test unknown"
    assert rows["Test metrics"] == "L1 0.090, SSIM unknown, PSNR unknown"
    assert rows["Faithfulness"] == UNKNOWN and rows["Categories"] == UNKNOWN


def test_a_synthetic_model_never_claims_sketchy():
    metadata = {
        **FULL_METADATA,
        "training": {**FULL_METADATA["training"], "data_source": "synthetic"},
    }
    card = ModelCard.from_metadata(version(), metadata, 32, class_aware=False)
    text = card.summary() + " ".join(value for _, value in card.rows())
    assert "sketchy" not in text.lower()
    assert "synthetic" in dict(card.rows())["Training data"]
    assert "no real photos" in card.summary()


def test_ineligible_versions_say_why():
    assert version().ineligible_reason is None
    assert version({"champion_eligible": "True"}).ineligible_reason is None
    reason = "test_l1 0.27 does not beat the mean training photo's 0.18"
    tagged = version({"champion_eligible": "False", "champion_ineligible_reason": reason})
    assert tagged.ineligible_reason == reason
    assert version({"champion_eligible": "False"}).ineligible_reason == "no reason recorded"


def test_registered_class_aware_generator_round_trip(tmp_path):
    """Registered with the project's log_and_register and tagged by promote_if_better: the
    demo reads back the metadata, the tags and the two-input model."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store = MlflowStore(uri, uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(experiment_name="demo_test")
    with mlflow.start_run():
        number = log_and_register(
            class_aware_generator(), registered_name="sketch_to_photo",
            artifact_name="generator", metadata=FULL_METADATA,
        )  # fmt: skip
    promote_if_better(
        "sketch_to_photo", number, "test_l1", 0.15, greater_is_better=False,
        client=store.client(), disqualified="it does not beat the mean training photo",
    )  # fmt: skip
    (found,) = registered_versions(store, "sketch_to_photo")
    assert found.ineligible_reason == "it does not beat the mean training photo"
    loaded = load_registered_model(store, found)
    assert loaded.class_aware and loaded.image_size == 32 and loaded.categories == CATEGORIES
    rows = dict(model_card(loaded).rows())
    assert rows["Epochs"] == "40" and rows["Pairs"] == "training 1,234, validation 150, test 163"
    loaded.warm_up()  # two inputs: would fail with a sketch alone
    result = sketch_to_photo(teapot(), loaded, category="ant")
    assert result.photo.shape == (32, 32, 3) and result.category == "ant"

    # What the demo server runs: the same model under ONNX Runtime, same photo, same card.
    twin = onnx_runtime_twin(loaded)
    assert isinstance(twin.model, OnnxModel) and twin.class_aware
    assert twin.metadata["runtime"] == "ONNX Runtime"
    assert dict(model_card(twin).rows()) == rows
    twin.warm_up()
    for category in CATEGORIES:
        keras_photo = sketch_to_photo(teapot(), loaded, category=category).photo
        onnx_photo = sketch_to_photo(teapot(), twin, category=category).photo
        assert np.abs(keras_photo.astype(int) - onnx_photo).max() <= 2  # uint8 rounding
    assert not (sketch_to_photo(teapot(), twin, category=CATEGORIES[0]).photo == onnx_photo).all()
