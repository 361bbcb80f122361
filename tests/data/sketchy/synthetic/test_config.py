"""SyntheticConfig: validation with explained errors, YAML lists, the config hash."""

from __future__ import annotations

import pytest

from sketch_to_photo.data.sketchy.synthetic import (
    SUPPORTED_CATEGORIES,
    SyntheticConfig,
    config_hash,
)


def test_unknown_category_lists_the_supported_ones():
    assert SUPPORTED_CATEGORIES == ("car_(sedan)", "strawberry", "teapot", "teddy_bear")
    assert SyntheticConfig().categories == SUPPORTED_CATEGORIES
    with pytest.raises(ValueError, match="airplane") as caught:
        SyntheticConfig(categories=("airplane", "teapot"))
    message = str(caught.value)
    assert all(c in message for c in SUPPORTED_CATEGORIES)
    assert "synthetic source only draws" in message and "local" in message and "sketchy" in message


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"photos_per_category": 0}, "photos_per_category must be >= 1"),
        ({"sketches_per_photo": (0, 3)}, "1 <= min <= max"),
        ({"sketches_per_photo": (4, 3)}, "1 <= min <= max"),
        ({"sketches_per_photo": (1, 2, 3)}, r"\(min, max\)"),
        ({"image_size": 31}, "image_size must be >= 32"),
        ({"seed": -1}, "seed must be >= 0"),
        ({"photos_per_category": 1.5}, "must be an integer"),
        ({"invalid_error_per_category": -1}, "invalid_error_per_category must be >= 0"),
        ({"photos_per_category": 1, "sketches_per_photo": (2, 5)}, "only guaranteed 2"),
        ({"photos_per_category": 3, "testset_per_category": 4}, "testset_per_category"),
        ({"categories": ()}, "categories is empty"),
        ({"categories": ("teapot", "teapot")}, "duplicates"),
        ({"categories": "teapot"}, "list of names"),
    ],
)
def test_bad_configs_are_explained(overrides, match):
    with pytest.raises(ValueError, match=match):
        SyntheticConfig(**overrides)


def test_lists_from_yaml_become_tuples_with_the_same_hash():
    from_yaml = SyntheticConfig(categories=["teapot"], sketches_per_photo=[1, 2])
    assert from_yaml == SyntheticConfig(categories=("teapot",), sketches_per_photo=(1, 2))
    assert config_hash(from_yaml) == config_hash(
        SyntheticConfig(categories=("teapot",), sketches_per_photo=(1, 2))
    )
    assert config_hash(from_yaml) != config_hash(SyntheticConfig())
