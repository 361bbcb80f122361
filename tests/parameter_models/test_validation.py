"""Typed parameters: every shipped environment validates, and each kind of mistake is refused
before anything runs with a message naming the key, the value and what is allowed."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader

from sketch_to_photo.parameter_models import PARAMETER_GROUPS, ParameterError, validate_parameters
from sketch_to_photo.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT, make_project

ENVIRONMENTS = sorted(p.name for p in (PROJECT_ROOT / "conf").iterdir() if p.is_dir())


def _parameters(env: str | None = None) -> dict[str, Any]:
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS
    )
    return loader["parameters"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_shipped_environment_is_valid(env: str) -> None:
    groups = validate_parameters(_parameters(env))
    assert set(groups) == set(PARAMETER_GROUPS)


def test_the_models_know_every_key_of_the_yaml_files() -> None:
    """The YAML holds the defaults, the models the rules: neither has a key the other lacks."""
    parameters = _parameters()
    for group, model in PARAMETER_GROUPS.items():
        assert set(parameters[group]) == set(model.model_fields), group


def _with(change: dict[str, Any]) -> dict[str, Any]:
    parameters = copy.deepcopy(_parameters())
    for path, value in change.items():
        *parents, last = path.split(".")
        target = parameters
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return parameters


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"training.epochs": -3}, "training.epochs = -3: must be greater than 0"),
        ({"training.generator": "vgg"}, "training.generator = 'vgg': must be 'unet' or 'resnet'"),
        (
            {"training.resnet_blocks": 0},
            "training.resnet_blocks = 0: must be greater than or equal to 1",
        ),
        (
            {"training.precision": "bf16"},
            "training.precision = 'bf16': must be 'auto', 'float32', 'mixed_bfloat16' or "
            "'mixed_float16'",
        ),
        (
            {"acquisition.sourc": "sketchy"},
            "acquisition.sourc: unknown key; did you mean 'source'? (the keys here are: source,",
        ),
        ({"training.epochs": "ten"}, "training.epochs = 'ten': must be a valid integer"),
        (
            {"training.edge_maps.real_share_end": 1.5},
            "training.edge_maps.real_share_end = 1.5: must be less than or equal to 1",
        ),
        (
            {"training.edge_maps.real_share": 0.5},
            "training.edge_maps.real_share: unknown key; did you mean 'real_share_end'?",
        ),
        (
            {"edge_maps.method": "sobel"},
            "edge_maps.method = 'sobel': must be 'canny' or 'xdog'",
        ),
        (
            {"training.generator_ema": 1.0},
            "training.generator_ema = 1.0: must be less than 1",
        ),
        (
            {"training.discriminator_scales": 2, "training.image_size": 32},
            "training: discriminator_scales 2 needs image_size >= 64",
        ),
        (
            {"training.r1_weight": -1.0},
            "training.r1_weight = -1.0: must be greater than or equal to 0",
        ),
        (
            {"training.category_critic_weight": 1.0, "training.class_aware": False},
            "training: category_critic_weight > 0 asks the generator for a photo of the "
            "category it was given, so it needs class_aware: true",
        ),
        (
            {"training.photo_colour.brightness": 1.5},
            "training.photo_colour.brightness = 1.5: must be less than 1",
        ),
        (
            {"training.pair_alignment": "stretch"},
            "training.pair_alignment = 'stretch': must be 'none', 'photo_to_sketch' or",
        ),
        (
            {"training.learning_rate": "2e-4"},
            "training.learning_rate = '2e-4': must be a valid number",
        ),
        (
            {"training.image_size": 100},
            "training.image_size = 100: must be a power of two from 32 to 1024 "
            "(32, 64, 128, 256, 512, 1024)",
        ),
        ({"index.categories": []}, "index.categories = []: must have at least 1 item"),
        (
            {"split.validation_fraction": 1.0},
            "split.validation_fraction = 1.0: must be less than 1",
        ),
        (
            {"acquisition.source": "local"},
            "acquisition: source is local but acquisition.local.path is not set",
        ),
        (
            {"trainig": {"epochs": 3}},
            "trainig: unknown parameter group; did you mean 'training'?",
        ),
        (
            {"training.perceptual.layer": ["block1_conv2"]},
            "training.perceptual.layer: unknown key; did you mean 'layers'?",
        ),
        (
            {"acquisition.synthetic.sketches_per_photo": [6, 3]},
            "sketches_per_photo is [min, max]: 6 is more than 3; write [3, 6]",
        ),
        (
            {"segmentation.workers": 0},
            "segmentation.workers = 0: must be 'auto' or must be greater than 0",
        ),
        (
            {"segmentation.grabcut.max_frame_fill": 1.5},
            "segmentation.grabcut.max_frame_fill = 1.5: must be less than or equal to 1",
        ),
        (
            {"segmentation.grabcut.max_frame_fill": 0.0},
            "segmentation.grabcut.max_frame_fill = 0.0: must be greater than 0",
        ),
        (
            {"segmentation.grabcut.max_frame_fill": 0.01},
            "segmentation.grabcut: max_frame_fill (0.01) must be above min_area (0.02): no "
            "cut-out could pass",
        ),
        (
            {"segmentation.grabcut.min_mask_in_box": -0.1},
            "segmentation.grabcut.min_mask_in_box = -0.1: must be greater than or equal to 0",
        ),
        (
            {"segmentation.grabcut.min_mask_in_box": "half"},
            "segmentation.grabcut.min_mask_in_box = 'half': must be a valid number",
        ),
        (
            {"segmentation.grabcut.min_mask_in_bbox": 0.5},
            "segmentation.grabcut.min_mask_in_bbox: unknown key; did you mean 'min_mask_in_box'?",
        ),
    ],
)
def test_each_kind_of_mistake_is_refused_with_what_is_allowed(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ParameterError) as raised:
        validate_parameters(_with(change))
    assert message in str(raised.value), str(raised.value)
    assert str(raised.value).startswith("Invalid parameters (conf/ and --params); nothing was run")


def _with_md5(md5: str) -> dict[str, Any]:
    parameters = copy.deepcopy(_parameters())
    parameters["acquisition"]["sketchy"]["archives"][0]["md5"] = md5
    return parameters


def test_an_md5_is_taken_in_either_case_as_the_downloader_takes_it() -> None:
    """download_file strips and lower-cases the expected MD5; conf/ must accept the same."""
    shipped = _parameters()["acquisition"]["sketchy"]["archives"][0]["md5"]
    groups = validate_parameters(_with_md5(f" {shipped.upper()}\n"))
    assert groups["acquisition"].sketchy.archives[0].md5 == shipped  # normalised once


@pytest.mark.parametrize(
    "md5", ["6a9dccbd07b48566c4754a767408765", "6a9dccbd07b48566c4754a767408765g"]
)
def test_a_wrong_md5_is_refused_with_what_is_allowed(md5: str) -> None:
    with pytest.raises(ParameterError) as raised:
        validate_parameters(_with_md5(md5))
    assert (
        f"acquisition.sketchy.archives.0.md5 = {md5!r}: must be an MD5: 32 hexadecimal digits"
        in str(raised.value)
    ), str(raised.value)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ParameterError) as raised:
        validate_parameters(_with({"training.epochs": 0, "evaluation.batch_size": -1}))
    lines = [line for line in str(raised.value).splitlines() if line.startswith("  - ")]
    assert len(lines) == 2


def test_runtime_parameters_of_the_catalog_are_not_groups() -> None:
    validate_parameters({**_parameters(), "sketch_folder": "/tmp/x", "model": "3"})


def test_kedro_run_stops_before_the_first_node(tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    kedro = Path(sys.executable).parent / "kedro"
    command = [str(kedro)] if kedro.is_file() else [sys.executable, "-m", "kedro"]
    started = time.perf_counter()
    result = subprocess.run(
        [*command, "run", "--params=training.epochs=-3,acquisition.sourc=sketchy"],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )  # fmt: skip
    seconds = time.perf_counter() - started
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode != 0
    assert "training.epochs = -3: must be greater than 0" in output
    assert "acquisition.sourc: unknown key; did you mean 'source'?" in output
    assert "Running node" not in output
    assert not (project / "data").exists()
    print(f"kedro run -> message in {seconds:.1f} s")  # noqa: T201
