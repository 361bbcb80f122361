"""The model card: every field said when recorded, "unknown" when not, never a claim the
metadata does not make; the same card as a registry description."""

from __future__ import annotations

from sketch_to_photo.app.model_card import UNKNOWN, ModelCard
from sketch_to_photo.app.registered_models import ModelVersion

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
