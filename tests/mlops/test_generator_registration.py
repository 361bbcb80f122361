"""The generator's model card, its version tags and the champion options (registration itself,
against a real MLflow store, is in tests/pipelines/evaluation/test_nodes.py)."""

from __future__ import annotations

import keras
import pytest

from sketch_to_photo.mlops.generator_registration import (
    check_champion_options,
    model_card,
    version_tags,
)


def _report() -> dict:
    model = {"l1": 0.1, "ssim": 0.5, "psnr": 15.0, "faithfulness": 0.6, "stroke_recall": 0.4,
             "chamfer": 3.0, "fill": 0.7, "photo_kid": 5.0}  # fmt: skip
    return {
        "class_aware": False,
        "test_pairs": 8,
        "overall": {
            "model": model,
            "mean_photo": {"l1": 0.3, "faithfulness": 0.25},
            "sketch_copy": {"stroke_recall": 1.0, "chamfer": 0.5, "fill": 0.3, "photo_kid": 30.0},
        },
        "real_photos": {"stroke_recall": 0.5, "chamfer": 2.0, "fill": 0.6, "photo_kid": 1.0},
        "faithfulness_table": {
            "generated": 0.6, "real_photos": 0.9, "mean_photo": 0.25,
            "generated_guessed_category": None,
        },
    }  # fmt: skip


def test_the_champion_options_must_name_test_metrics():
    check_champion_options("test_faithfulness", "test_l1")
    check_champion_options("test_l1", None)
    with pytest.raises(
        ValueError, match=r"evaluation.champion_tie_break must be one of .*'test_ll'"
    ):
        check_champion_options("test_faithfulness", "test_ll")


def test_the_model_card_and_its_version_tags():
    generator = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Conv2D(3, 1)])
    history = {"epochs": 3, "train_pairs": 70, "validation_pairs": 14}
    manifest = {"source": "synthetic", "categories": ["ant", "bee"]}
    card = model_card(generator, _report(), history, manifest)
    assert card["image_size"] == 16 and card["categories"] == ["ant", "bee"]
    assert card["training"] == {"data_source": "synthetic", **history} and card["test_pairs"] == 8
    metrics = card["test_metrics"]
    assert metrics["faithfulness"] == 0.6 and metrics["mean_photo_l1"] == 0.3
    assert metrics["real_photos_photo_kid"] == 1.0 and metrics["sketch_copy_fill"] == 0.3
    assert "faithfulness_guessed_category" not in metrics  # not class-aware
    tags = version_tags(card)
    assert tags["faithfulness"] == 0.6 and tags["faithfulness_mean_photo"] == 0.25
    assert tags["photo_kid_sketch_copy"] == 30.0 and tags["categories"] == "ant+bee"
    assert tags["epochs"] == 3 and tags["data_source"] == "synthetic"
