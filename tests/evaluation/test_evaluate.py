"""The whole evaluation on hand-made shards: the report's sections, and what the grid is
drawn from (on the project's synthetic data: tests/pipelines/evaluation)."""

from __future__ import annotations

import keras
import numpy as np

from sketch_to_photo.evaluation.evaluate import evaluate
from sketch_to_photo.evaluation.grid import result_grid
from sketch_to_photo.models.classifier import build_small_classifier
from tests.evaluation.shards import pair_arrays, saved

SIZE = 32


def test_a_report_with_every_system_the_faithfulness_table_and_the_grid_rows(tmp_path):
    rng = np.random.default_rng(2)
    shards = saved(tmp_path / "pairs", {
        f"{split}/{name}-00000": pair_arrays(rng, [f"{split}{name}{i // 2}" for i in range(n)], label, SIZE)
        for split, n in (("train", 6), ("test", 4))
        for label, name in enumerate(("ant", "bee"))
    })  # fmt: skip
    keras.utils.set_random_seed(0)
    generator = keras.Sequential(
        [keras.Input((SIZE, SIZE, 3)), keras.layers.Conv2D(3, 3, padding="same", activation="tanh")]
    )
    judge = build_small_classifier(2, SIZE)
    result = evaluate(
        generator, shards, judge, {"judge": "toy"}, None,
        seed=1, batch_size=3, grid_per_category=1, vgg_weights="none",
        perceptual_layers=["block1_conv2"], fid_weights="none",
    )  # fmt: skip
    report = result.report
    assert set(report["overall"]) == {
        "model", "untrained", "mean_photo", "sketch_copy", "blurred_photos",
    }  # fmt: skip
    assert report["test_pairs"] == 8 and report["image_size"] == SIZE
    assert report["faithfulness_judge"] == {"judge": "toy"} and report["fid"] is None
    assert report["faithfulness"] == report["faithfulness_table"]["generated"]
    assert report["real_photos"]["photo_kid"] is not None
    assert result.categories == {0: "ant", 1: "bee"} and len(result.grid_rows) == 2
    grid = result_grid(result.grid_rows, report, result.categories)
    assert grid.width > 3 * 128 and grid.height > 2 * 128  # cells of at least GRID_CELL px
