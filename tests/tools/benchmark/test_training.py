"""The training section: the reference matches the tutorial; a tiny run gives sane rows."""

from __future__ import annotations

import argparse
import math
import re

import keras
import pytest

from sketch_to_photo.models import build_discriminator, build_generator
from sketch_to_photo.tools.benchmark import flops, training
from sketch_to_photo.tools.benchmark.reference import TutorialPix2Pix
from tests.tools.benchmark.documented import one, section

TF_TUTORIAL_GENERATOR_PARAMS = 54_425_859
TF_TUTORIAL_DISCRIMINATOR_PARAMS = 2_770_433


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    training.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_are_the_documented_measurement() -> None:
    """docs/benchmarks.md's "Training at 256x256, 54.4M + 2.8M parameters": 10 timed steps each,
    candidates mixed_bfloat16 at batches 4, 8 and 16. The options run() works from, with the
    default arguments, must be that measurement."""
    text = section("Training at ")
    heading = one(r"Training at (\d+)x\1, ([\d.]+)M \+ ([\d.]+)M parameters", text)
    steps = int(one(r"\((\d+) steps each,\s+medians\)", text).group(1))
    batches = [
        int(b) for b in re.findall(r"^\|[ *]*project mixed_bfloat16, batch (\d+)", text, re.M)
    ]
    options = training._options(_args())  # noqa: SLF001  (what run() reads)
    assert options.training_size == int(heading.group(1))
    assert options.training_steps == steps
    assert options.batch_sizes == batches == [4, 8, 16]
    # the documented parameter counts fix the width: 54.4M + 2.8M at these defaults
    generator = build_generator(options.training_size, options.training_filters)
    discriminator = build_discriminator(options.training_size, options.training_filters)
    assert f"{generator.count_params() / 1e6:.1f}" == heading.group(2)
    assert f"{discriminator.count_params() / 1e6:.1f}" == heading.group(3)
    assert options.training_loss_curves is None  # curves only when asked for (minutes more)


def test_reference_is_the_tutorials_model_at_256() -> None:
    reference = TutorialPix2Pix()
    assert reference.generator.count_params() == TF_TUTORIAL_GENERATOR_PARAMS
    assert reference.discriminator.count_params() == TF_TUTORIAL_DISCRIMINATOR_PARAMS
    assert reference.discriminator.output_shape == (None, 30, 30, 1)
    # Same convolutions as the project's model, so the FLOP formula scores both alike.
    train_flops = flops.pix2pix_train_flops(reference.generator, reference.discriminator)
    project = flops.pix2pix_train_flops(build_generator(256, 64), build_discriminator(256, 64))
    assert train_flops == project
    assert 75e9 < train_flops < 85e9


def test_conv_flops_count_a_known_layer() -> None:
    inputs = keras.Input((8, 8, 3))
    conv = keras.layers.Conv2D(5, 3, strides=2, padding="same")(inputs)  # 4x4x5 out
    up = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(conv)  # from 4x4x5
    model = keras.Model(inputs, up)
    assert flops.conv_flops(model) == 2 * 16 * (9 * 3) * 5 + 2 * 16 * (16 * 5) * 2


def test_quick_run_gives_every_case_with_ratios() -> None:
    rows = training.run(_args("--training-quick"))
    cases = [row.case for row in rows]
    assert cases[:2] == ["reference fp32 b1", "project fp32 b1"]
    assert cases[2].startswith("project ") and cases[2].endswith(" b2")  # the quick candidate
    assert cases[3:] == ["recommended"]
    for row, batch_size in zip(rows, (1, 1, 2, 2), strict=True):
        assert row.section == "training"
        for name in ("ms_per_step", "images_per_s", "gflops", "x_reference"):
            assert math.isfinite(row.values[name]) and row.values[name] > 0, (row.case, name)
        images_per_s = 1000 * batch_size / row.values["ms_per_step"]
        assert row.values["images_per_s"] == pytest.approx(images_per_s)
    assert rows[0].values["x_reference"] == 1.0
    assert rows[3].values == rows[2].values  # the only candidate is the recommendation
    assert keras.mixed_precision.global_policy().name == "float32"  # restored


def test_bad_batches_are_refused() -> None:
    with pytest.raises(ValueError, match="comma-separated integers"):
        training.run(_args("--training-quick", "--training-batches", "4;8"))
