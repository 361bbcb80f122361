"""What each category holds: photo ids, sketch counts, the flagged sketches and the testset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sketch_to_photo.data.sketchy.synthetic.config import SUPPORTED_CATEGORIES, SyntheticConfig

_SYNSETS: dict[str, str] = {
    "car_(sedan)": "n02958343",
    "strawberry": "n07745940",
    "teapot": "n04398044",
    "teddy_bear": "n04399382",
}
_ID_MAX = 20000

# Purposes keep the random streams independent: changing the sketch-count range must not
# change the photos, and a category draws the same images whatever else is in the config.
_IDS, PHOTO_STREAM, SKETCH_STREAM, _LISTS, _COUNTS = range(5)


def _has_prefix_pair(numbers: list[int]) -> bool:
    texts = sorted(str(n) for n in numbers)
    return any(b.startswith(a) for a, b in zip(texts, texts[1:], strict=False))


def _photo_numbers(seed: int, category_index: int, count: int) -> list[int]:
    """Distinct numbers in 1..20000; with two or more, one is a string prefix of another."""
    rng = np.random.default_rng([seed, _IDS, category_index])
    numbers = [int(n) + 1 for n in rng.choice(_ID_MAX, size=count, replace=False)]
    if count >= 2 and not _has_prefix_pair(numbers):
        rest = set(numbers[2:])
        while True:
            short = int(rng.integers(1, _ID_MAX // 10))
            long = short * 10 + int(rng.integers(10))
            if short not in rest and long not in rest:
                break
        numbers[0], numbers[1] = short, long
        numbers = [numbers[i] for i in rng.permutation(count)]
    return numbers


@dataclass(frozen=True)
class CategoryPlan:
    """One category decided before any image is drawn."""

    name: str
    index: int  # position in SUPPORTED_CATEGORIES: seeds do not depend on the config's order
    photo_ids: list[str]
    sketch_counts: list[int]
    flags: dict[str, set[str]]  # list name -> sketch ids
    testset: set[str]  # photo ids


def plan_category(name: str, config: SyntheticConfig) -> CategoryPlan:
    index = SUPPORTED_CATEGORIES.index(name)
    n = config.photos_per_category
    numbers = _photo_numbers(config.seed, index, n)
    photo_ids = [f"{_SYNSETS[name]}_{number}" for number in numbers]
    low, high = config.sketches_per_photo
    counts = np.random.default_rng([config.seed, _COUNTS, index]).integers(low, high + 1, n)
    rng = np.random.default_rng([config.seed, _LISTS, index])
    # Prefer k >= 2 for the unusable lists so most photos keep a valid first sketch.
    later = [
        f"{pid}-{k}" for pid, c in zip(photo_ids, counts, strict=True) for k in range(2, int(c) + 1)
    ]
    first = [f"{pid}-1" for pid in photo_ids]
    order = [later[i] for i in rng.permutation(len(later))] + [first[i] for i in rng.permutation(n)]
    n_err, n_amb = config.invalid_error_per_category, config.invalid_ambiguous_per_category
    flags = {"error": set(order[:n_err]), "ambiguous": set(order[n_err : n_err + n_amb])}
    rest = order[n_err + n_amb :]
    rest = [rest[i] for i in rng.permutation(len(rest))]
    n_pose = config.invalid_pose_per_category
    flags["pose"] = set(rest[:n_pose])
    flags["context"] = set(rest[n_pose : n_pose + config.invalid_context_per_category])
    test = {photo_ids[i] for i in rng.choice(n, size=config.testset_per_category, replace=False)}
    return CategoryPlan(name, index, photo_ids, [int(c) for c in counts], flags, test)
