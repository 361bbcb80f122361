"""What to generate: the validated :class:`SyntheticConfig` and its hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from sketch_to_photo.data.sketchy.layout import INVALID_LIST_FILES

SUPPORTED_CATEGORIES: tuple[str, ...] = ("car_(sedan)", "strawberry", "teapot", "teddy_bear")


@dataclass(frozen=True)
class SyntheticConfig:
    """What to generate; validated on construction (lists from YAML become tuples)."""

    categories: tuple[str, ...] = SUPPORTED_CATEGORIES
    photos_per_category: int = 20
    sketches_per_photo: tuple[int, int] = (3, 6)  # inclusive range
    image_size: int = 256
    seed: int = 0
    invalid_error_per_category: int = 1  # sketch ids listed in invalid-error.txt
    invalid_ambiguous_per_category: int = 1  # ... in invalid-ambiguous.txt
    invalid_pose_per_category: int = 1  # pose/context: flagged but usable
    invalid_context_per_category: int = 1
    testset_per_category: int = 2  # photos listed in testset.txt

    def __post_init__(self) -> None:
        if isinstance(self.categories, str):
            raise ValueError(
                f"categories must be a list of names, got the string {self.categories!r}"
            )
        object.__setattr__(self, "categories", tuple(self.categories))
        _check_categories(self.categories)
        for name in _INT_FIELDS:
            object.__setattr__(self, name, _as_int(name, getattr(self, name)))
        pair = tuple(self.sketches_per_photo)
        if len(pair) != 2:
            raise ValueError(f"sketches_per_photo must be (min, max), got {pair!r}")
        object.__setattr__(
            self, "sketches_per_photo", tuple(_as_int("sketches_per_photo", v) for v in pair)
        )
        _check_counts(self)


_INT_FIELDS = (
    "photos_per_category",
    "image_size",
    "seed",
    "invalid_error_per_category",
    "invalid_ambiguous_per_category",
    "invalid_pose_per_category",
    "invalid_context_per_category",
    "testset_per_category",
)


def _as_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def _check_categories(categories: tuple[str, ...]) -> None:
    unknown = [c for c in categories if c not in SUPPORTED_CATEGORIES]
    if unknown:
        raise ValueError(
            f"unknown categories {unknown}: the synthetic source only draws "
            f"{list(SUPPORTED_CATEGORIES)}; use `source: local` or `source: sketchy` "
            "for other categories"
        )
    if not categories:
        raise ValueError(f"categories is empty; choose from {list(SUPPORTED_CATEGORIES)}")
    if len(set(categories)) != len(categories):
        raise ValueError(f"categories has duplicates: {list(categories)}")


def _check_counts(config: SyntheticConfig) -> None:
    if config.photos_per_category < 1:
        raise ValueError(f"photos_per_category must be >= 1, got {config.photos_per_category}")
    low, high = config.sketches_per_photo
    if not 1 <= low <= high:
        raise ValueError(f"sketches_per_photo needs 1 <= min <= max, got ({low}, {high})")
    if config.image_size < 32:
        raise ValueError(f"image_size must be >= 32 pixels, got {config.image_size}")
    if config.seed < 0:
        raise ValueError(f"seed must be >= 0, got {config.seed}")
    flagged = {name: getattr(config, f"invalid_{name}_per_category") for name in INVALID_LIST_FILES}
    for name, count in flagged.items():
        if count < 0:
            raise ValueError(f"invalid_{name}_per_category must be >= 0, got {count}")
    # The four lists are disjoint, so they must fit in the fewest sketches a category can get.
    guaranteed = config.photos_per_category * low
    if sum(flagged.values()) > guaranteed:
        raise ValueError(
            f"the invalid lists ask for {sum(flagged.values())} distinct sketches per category "
            f"but a category is only guaranteed {guaranteed} "
            "(photos_per_category x min sketches_per_photo)"
        )
    if not 0 <= config.testset_per_category <= config.photos_per_category:
        raise ValueError(
            "testset_per_category must be between 0 and photos_per_category "
            f"({config.photos_per_category}), got {config.testset_per_category}"
        )


def config_dict(config: SyntheticConfig) -> dict[str, Any]:
    """Plain JSON-ready dict of the config (tuples as lists)."""
    data = asdict(config)
    data["categories"] = list(config.categories)
    data["sketches_per_photo"] = list(config.sketches_per_photo)
    return data


def config_hash(config: SyntheticConfig) -> str:
    """First 16 hex chars of the sha256 of the canonical JSON of the config."""
    canonical = json.dumps(config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
