"""A small synthetic dataset laid out exactly like the real Sketchy database.

Every object is a list of parts (polygons or open strokes in object coordinates, each with a
colour role). A photo fills the parts with a per-photo palette, shades them and puts them on a
varied non-white background; each sketch draws the same parts again the way people draw from
memory: black wobbly outlines on white, slightly moved and rescaled, some details missing.
Everything is drawn from numpy Generators seeded by ``(seed, purpose, category, photo, sketch)``,
so one config always gives byte-identical files.
"""

from __future__ import annotations

import colorsys
import csv
import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from sketch_to_photo.sketchy.layout import (
    DEFAULT_AUGMENTATION,
    INFO_ROOT,
    INVALID_LIST_FILES,
    PHOTO_ROOT,
    PHOTO_SUFFIX,
    SKETCH_ROOT,
    SKETCH_SUFFIX,
    STATS_FILE,
    TESTSET_FILE,
    stats_category_name,
)
from sketch_to_photo.utils.atomic import atomic_directory

SUPPORTED_CATEGORIES: tuple[str, ...] = ("car_(sedan)", "strawberry", "teapot", "teddy_bear")

_SUMMARY_FILE = "synthetic.json"
_STATS_HEADER: tuple[str, ...] = (
    "Category",
    "ImageNetID",
    "SketchID",
    "Error?",
    "Context?",
    "Ambiguous?",
    "WrongPose?",
    "BBox_x",
    "BBox_y",
    "BBox_width",
    "BBox_height",
    "Width",
    "Height",
)

_SYNSETS: dict[str, str] = {
    "car_(sedan)": "n02958343",
    "strawberry": "n07745940",
    "teapot": "n04398044",
    "teddy_bear": "n04399382",
}
_ID_MAX = 20000
_JPEG_QUALITY = 92
_SUBPIXEL_SHIFT = 4  # cv2 drawing with 4 fractional bits: smooth anti-aliased curves
_SUBPIXEL = float(1 << _SUBPIXEL_SHIFT)

# Purposes keep the random streams independent: changing the sketch-count range must not
# change the photos, and a category draws the same images whatever else is in the config.
_IDS, _PHOTO, _SKETCH, _LISTS, _COUNTS = range(5)

_Colour = np.ndarray  # (3,) float RGB in 0..255


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


def _config_dict(config: SyntheticConfig) -> dict[str, Any]:
    """Plain JSON-ready dict of the config (tuples as lists)."""
    data = asdict(config)
    data["categories"] = list(config.categories)
    data["sketches_per_photo"] = list(config.sketches_per_photo)
    return data


def config_hash(config: SyntheticConfig) -> str:
    """First 16 hex chars of the sha256 of the canonical JSON of the config."""
    canonical = json.dumps(_config_dict(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


_DEFAULT_CONFIG = SyntheticConfig()


# --------------------------------------------------------------------------- geometry


@dataclass
class _Part:
    """One piece of an object, in object coordinates (x right, y down, about 2 units wide)."""

    points: np.ndarray  # (N, 2) float
    role: str  # palette key
    group: str  # sketches drop whole groups (both eyes, all seeds)
    closed: bool = True
    essential: bool = False  # the main outline: always drawn in sketches
    drop: float = 0.2  # chance a sketch leaves the group out (defining features: less)
    relief: float = 0.3  # 0 flat .. 1 strongly rounded shading
    gloss: float = 0.0  # specular highlight strength
    width: float = 0.0  # stroke width of open parts, object units
    sketch: str = "outline"  # outline | fill | dot | skip


def _ellipse(
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    angle: float = 0.0,
    start: float = 0.0,
    end: float = 360.0,
    n: int = 48,
) -> np.ndarray:
    full = math.isclose(end - start, 360.0)
    t = np.radians(np.linspace(start, end, n, endpoint=not full))
    x, y = ax * np.cos(t), ay * np.sin(t)
    a = math.radians(angle)
    ca, sa = math.cos(a), math.sin(a)
    return np.stack([cx + x * ca - y * sa, cy + x * sa + y * ca], axis=1)


def _chaikin(points: np.ndarray, iterations: int = 2) -> np.ndarray:
    """Corner-cutting on a closed polygon: rounds corners the way car bodies are rounded."""
    for _ in range(iterations):
        nxt = np.roll(points, -1, axis=0)
        points = np.stack([0.75 * points + 0.25 * nxt, 0.25 * points + 0.75 * nxt], 1).reshape(
            -1, 2
        )
    return points


def _tube(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, w0: float, w1: float) -> np.ndarray:
    """Polygon around a quadratic Bezier centre line, width tapering from w0 to w1."""
    t = np.linspace(0.0, 1.0, 24)[:, None]
    centre = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    tangent = 2 * (1 - t) * (p1 - p0) + 2 * t * (p2 - p1)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    half = (w0 + (w1 - w0) * t) / 2
    return np.vstack([centre + normal * half, (centre - normal * half)[::-1]])


def _car_parts(rng: np.random.Generator) -> list[_Part]:
    belt = -0.12
    roof = belt - rng.uniform(0.3, 0.42)
    rear_base = rng.uniform(-0.66, -0.5)
    wind_base = rng.uniform(0.34, 0.5)
    roof_rear = rear_base + rng.uniform(0.18, 0.3)
    roof_front = wind_base - rng.uniform(0.28, 0.4)
    bottom = 0.3
    radius = rng.uniform(0.16, 0.2)
    wheel_x = rng.uniform(0.55, 0.66)
    arch = radius * 1.18
    outline = [
        (-1.0, 0.2),
        (-1.0, -0.02),
        (-0.96, belt + 0.02),
        (rear_base, belt),
        (roof_rear, roof),
        (roof_front, roof),
        (wind_base, belt + 0.01),
        (0.93, belt + 0.07),
        (1.0, 0.02),
        (1.0, 0.22),
        (0.97, bottom),
    ]
    for cx in (wheel_x, -wheel_x):
        t = np.radians(np.linspace(0, 180, 9))
        outline += [(cx + arch * math.cos(a), bottom - arch * math.sin(a) * 0.95) for a in t]
    outline.append((-0.97, bottom))
    body = _chaikin(np.array(outline, float), 2)

    pillar = (roof_rear + roof_front) / 2 + rng.uniform(-0.05, 0.05)
    top = roof + 0.055
    glass_rear = np.array(
        [
            (rear_base + 0.1, belt - 0.03),
            (roof_rear + 0.05, top),
            (pillar - 0.03, top),
            (pillar - 0.03, belt - 0.03),
        ]
    )
    glass_front = np.array(
        [
            (pillar + 0.03, belt - 0.03),
            (pillar + 0.03, top),
            (roof_front - 0.01, top),
            (wind_base - 0.1, belt - 0.03),
        ]
    )
    parts = [
        _Part(body, "body", "body", essential=True, relief=0.15, gloss=0.35),
        _Part(_chaikin(glass_rear, 1), "glass", "windows", relief=0.1, gloss=0.3),
        _Part(_chaikin(glass_front, 1), "glass", "windows", relief=0.1, gloss=0.3),
        _Part(
            np.array([(pillar, belt + 0.01), (pillar + 0.02, bottom - 0.06)]),
            "trim",
            "door",
            closed=False,
            width=0.014,
        ),
        _Part(
            np.array([(pillar + 0.08, -0.04), (pillar + 0.17, -0.04)]),
            "trim",
            "door",
            closed=False,
            width=0.022,
            sketch="skip",
        ),
        _Part(_ellipse(0.95, belt + 0.13, 0.05, 0.035), "headlight", "lights", relief=0.0),
        _Part(_ellipse(-0.98, belt + 0.12, 0.025, 0.045), "taillight", "lights", relief=0.0),
    ]
    for cx in (wheel_x, -wheel_x):
        parts.append(
            _Part(_ellipse(cx, bottom, radius, radius), "tyre", "wheels", relief=0.35, drop=0.05)
        )
        parts.append(
            _Part(_ellipse(cx, bottom, radius * 0.55, radius * 0.55), "rim", "rims", relief=0.3)
        )
    return parts


def _strawberry_parts(rng: np.random.Generator) -> list[_Part]:
    top, height = -0.72, rng.uniform(1.55, 1.8)
    half_width = rng.uniform(0.68, 0.92)
    peak = rng.uniform(0.22, 0.38)  # where (from the top) the berry is widest
    power = math.log(0.5) / math.log(peak)
    lean = rng.uniform(-0.15, 0.15)
    u = np.linspace(0.0, 1.0, 40)

    def width(v: np.ndarray) -> np.ndarray:
        return half_width * np.sin(np.pi * np.power(v, power))

    y = top + height * u
    shift = lean * u**2
    right = np.stack([shift + width(u), y], 1)
    left = np.stack([shift - width(u), y], 1)[::-1]
    body = np.vstack([right, left[1:-1]])
    parts = [_Part(body, "body", "body", essential=True, relief=0.45, gloss=0.35)]

    rows = int(rng.integers(6, 9))
    for row_u in np.linspace(0.13, 0.9, rows):
        w = float(width(np.array(row_u)))
        count = max(1, round(2 * w * 0.8 / 0.17))
        offset = 0.5 * (rng.random() - 0.5)
        for x in np.linspace(-0.8 * w, 0.8 * w, count) + offset * 0.17:
            if abs(x) > 0.82 * w:
                continue
            cx = x + lean * row_u**2 + rng.normal(0, 0.015)
            cy = top + height * row_u + rng.normal(0, 0.015)
            angle = float(rng.uniform(-30, 30))
            parts.append(
                _Part(
                    _ellipse(cx, cy, 0.045, 0.032, angle, n=12),
                    "pit",
                    "seeds",
                    relief=0.0,
                    sketch="skip",
                )
            )
            parts.append(
                _Part(
                    _ellipse(cx, cy - 0.008, 0.026, 0.018, angle, n=10),
                    "seed",
                    "seeds",
                    relief=0.0,
                    sketch="dot",
                )
            )

    leaves = int(rng.integers(5, 8))
    base = np.array([0.0, top + 0.05])
    for angle in np.linspace(-175, -5, leaves) + rng.normal(0, 8, leaves):
        length = rng.uniform(0.28, 0.48)
        half = rng.uniform(0.06, 0.1)
        t = np.linspace(0, 1, 14)
        upper = np.stack([t * length, -half * np.sin(np.pi * t) ** 0.8], 1)
        lower = np.stack([t * length, half * np.sin(np.pi * t) ** 0.8], 1)[::-1][1:-1]
        leaf = np.vstack([upper, lower])
        # Leaves hang over the berry: turn them down a little from the chosen direction.
        a = math.radians(angle + (12 if angle > -90 else -12))
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        parts.append(_Part(leaf @ rot.T + base, "leaf", "crown", relief=0.25, drop=0.1))
    stem = np.array(
        [(0.0, top + 0.02), (0.03, top - 0.12), (0.08 * rng.choice([-1, 1]), top - 0.25)]
    )
    parts.append(_Part(stem, "stem", "stem", closed=False, width=0.06))
    return parts


def _teapot_parts(rng: np.random.Generator) -> list[_Part]:
    cy = 0.15
    ax, ay = rng.uniform(0.6, 0.75), rng.uniform(0.42, 0.55)
    body = _ellipse(0.0, cy, ax, ay, n=72)
    body[:, 1] = np.minimum(body[:, 1], cy + 0.88 * ay)
    foot_y = cy + 0.86 * ay
    foot = np.array(
        [
            (-0.45 * ax, foot_y - 0.05),
            (0.45 * ax, foot_y - 0.05),
            (0.5 * ax, foot_y + 0.07),
            (-0.5 * ax, foot_y + 0.07),
        ]
    )
    tip = np.array([ax + rng.uniform(0.28, 0.45), cy - ay - rng.uniform(-0.05, 0.15)])
    spout = _tube(
        np.array([ax * 0.75, cy + 0.12]),
        np.array([ax + 0.12, cy + 0.05]),
        tip,
        rng.uniform(0.24, 0.3),
        rng.uniform(0.07, 0.1),
    )
    hx, hy = -ax - rng.uniform(0.0, 0.08), cy - 0.03
    outer = _ellipse(hx, hy, 0.32, 0.3 * ay / 0.5, start=60, end=300, n=30)
    inner = _ellipse(hx, hy, 0.21, 0.19 * ay / 0.5, start=60, end=300, n=30)
    handle = np.vstack([outer, inner[::-1]])
    lid_y = cy - ay * 0.9
    lid_w, lid_h = ax * rng.uniform(0.42, 0.6), rng.uniform(0.1, 0.16)
    lid = _ellipse(0.0, lid_y, lid_w, lid_h, start=180, end=360, n=30)
    lid = np.vstack([lid, [(lid_w, lid_y + 0.04), (-lid_w, lid_y + 0.04)]])
    knob_r = rng.uniform(0.06, 0.09)
    knob = _ellipse(0.0, lid_y - lid_h - knob_r * 0.7, knob_r * 1.2, knob_r)
    parts = [
        _Part(handle, "ceramic", "handle", relief=0.3, gloss=0.3, drop=0.08),
        _Part(spout, "ceramic", "spout", relief=0.35, gloss=0.4, drop=0.05),
        _Part(foot, "ceramic", "foot", relief=0.2),
        _Part(body, "ceramic", "body", essential=True, relief=0.5, gloss=0.6),
    ]
    if rng.random() < 0.7:
        x = np.linspace(-0.93 * ax, 0.93 * ax, 20)
        band_y = cy + rng.uniform(-0.15, 0.15) * ay
        band = np.stack([x, band_y + 0.1 * ay * (x / ax) ** 2], 1)
        parts.append(_Part(band, "pattern", "pattern", closed=False, width=rng.uniform(0.03, 0.07)))
    parts += [
        _Part(lid, "lid", "lid", relief=0.35, gloss=0.5),
        _Part(knob, "knob", "knob", relief=0.4, gloss=0.5),
    ]
    return parts


def _teddy_parts(rng: np.random.Generator) -> list[_Part]:
    head_r = rng.uniform(0.36, 0.44)
    hy = -0.45
    ear_r = rng.uniform(0.14, 0.19)
    ear_angle = math.radians(rng.uniform(40, 55))
    bw, bh = rng.uniform(0.4, 0.5), rng.uniform(0.45, 0.55)
    arm_angle = rng.uniform(15, 45)
    parts: list[_Part] = []
    for side in (-1, 1):
        ex = side * head_r * math.sin(ear_angle)
        ey = hy - head_r * math.cos(ear_angle)
        parts.append(_Part(_ellipse(ex, ey, ear_r, ear_r), "fur", "ears", relief=0.4, drop=0.05))
        parts.append(
            _Part(
                _ellipse(ex * 0.95, ey + 0.02, ear_r * 0.55, ear_r * 0.55),
                "inner",
                "inner_ears",
                relief=0.2,
            )
        )
    parts.append(_Part(_ellipse(0.0, 0.35, bw, bh), "fur", "body", essential=True, relief=0.45))
    if rng.random() < 0.5:
        parts.append(_Part(_ellipse(0.0, 0.42, bw * 0.55, bh * 0.55), "inner", "belly", relief=0.2))
    for side in (-1, 1):
        parts.append(
            _Part(_ellipse(side * 0.3, 0.82, 0.21, 0.17), "fur", "legs", relief=0.45, drop=0.1)
        )
        parts.append(_Part(_ellipse(side * 0.32, 0.85, 0.11, 0.1), "inner", "pads", relief=0.2))
    for side in (-1, 1):
        arm = _ellipse(side * bw * 0.9, 0.2, 0.14, 0.32, angle=-side * arm_angle)
        parts.append(_Part(arm, "fur", "arms", relief=0.45, drop=0.1))
    parts += [
        _Part(
            _ellipse(0.0, hy, head_r, head_r * 0.95, n=60),
            "fur",
            "head",
            essential=True,
            relief=0.45,
        ),
        _Part(_ellipse(0.0, hy + 0.13, 0.17, 0.13), "muzzle", "muzzle", relief=0.3),
        _Part(
            _ellipse(0.0, hy + 0.07, 0.065, 0.045),
            "eye",
            "nose",
            relief=0.0,
            gloss=0.4,
            sketch="fill",
        ),
        _Part(
            np.array([(0.0, hy + 0.1), (0.0, hy + 0.19)]), "eye", "mouth", closed=False, width=0.018
        ),
        _Part(
            _ellipse(0.0, hy + 0.12, 0.08, 0.07, start=30, end=150, n=12),
            "eye",
            "mouth",
            closed=False,
            width=0.018,
        ),
    ]
    for side in (-1, 1):
        eye = _ellipse(side * 0.15, hy - 0.08, 0.045, 0.05)
        parts.append(_Part(eye, "eye", "eyes", relief=0.0, gloss=0.5, sketch="fill"))
    if rng.random() < 0.4:
        for side in (-1, 1):
            bow = np.array(
                [
                    (0.0, hy + head_r),
                    (side * 0.2, hy + head_r - 0.08),
                    (side * 0.2, hy + head_r + 0.1),
                ]
            )
            parts.append(_Part(bow, "ribbon", "ribbon", relief=0.15))
    return parts


# --------------------------------------------------------------------------- palettes


def _jitter(
    rng: np.random.Generator, rgb: tuple[float, float, float] | np.ndarray, amount: float = 12
) -> _Colour:
    return np.clip(np.asarray(rgb, float) + rng.normal(0, amount, 3), 0, 255)


def _pick(
    rng: np.random.Generator, options: list[tuple[float, float, float]]
) -> tuple[float, float, float]:
    return options[int(rng.integers(len(options)))]


def _car_palette(rng: np.random.Generator) -> dict[str, _Colour]:
    body = _pick(
        rng,
        [
            (190, 25, 30),
            (125, 15, 25),
            (25, 60, 165),
            (20, 32, 80),
            (176, 179, 184),
            (30, 30, 34),
            (232, 232, 228),
            (20, 85, 55),
        ],
    )
    return {
        # Brightness varies more than hue: white and silver cars must stay neutral.
        "body": _jitter(rng, np.asarray(body) * rng.uniform(0.88, 1.05), 4),
        "glass": _jitter(rng, _pick(rng, [(150, 190, 215), (110, 150, 185), (60, 75, 95)]), 8),
        "trim": _jitter(rng, (35, 35, 40), 5),
        "tyre": _jitter(rng, (24, 24, 27), 4),
        "rim": _jitter(rng, _pick(rng, [(180, 180, 185), (95, 95, 100)]), 6),
        "headlight": _jitter(rng, (245, 240, 215), 5),
        "taillight": _jitter(rng, (205, 30, 30), 8),
    }


def _strawberry_palette(rng: np.random.Generator) -> dict[str, _Colour]:
    body = _jitter(rng, _pick(rng, [(205, 25, 35), (222, 42, 40), (178, 18, 30), (230, 58, 48)]), 8)
    return {
        "body": body,
        "pit": body * 0.72,
        "seed": _jitter(rng, (236, 206, 92), 10),
        "leaf": _jitter(rng, _pick(rng, [(52, 132, 40), (72, 150, 52), (40, 108, 36)]), 8),
        "stem": _jitter(rng, (104, 140, 62), 8),
    }


def _teapot_palette(rng: np.random.Generator) -> dict[str, _Colour]:
    options = [
        (238, 236, 228),
        (36, 76, 165),
        (105, 56, 28),
        (56, 116, 86),
        (32, 32, 35),
        (235, 222, 190),
        (168, 42, 36),
    ]
    index = int(rng.integers(len(options)))
    ceramic = _jitter(rng, options[index], 8)
    light = index in (0, 5)
    pattern = _pick(
        rng, [(40, 70, 160), (200, 160, 60)] if light else [(240, 238, 230), (205, 165, 65)]
    )
    knob = ceramic if rng.random() < 0.6 else _jitter(rng, (205, 165, 65), 8)
    return {
        "ceramic": ceramic,
        "lid": np.clip(ceramic * rng.uniform(0.95, 1.05), 0, 255),
        "knob": knob,
        "pattern": _jitter(rng, pattern, 8),
    }


def _teddy_palette(rng: np.random.Generator) -> dict[str, _Colour]:
    fur = _jitter(
        rng,
        _pick(
            rng,
            [
                (135, 85, 45),
                (196, 154, 104),
                (192, 138, 64),
                (150, 145, 140),
                (225, 210, 180),
                (92, 56, 30),
            ],
        ),
        10,
    )
    inner = fur * 0.45 + 255 * 0.55 if rng.random() < 0.6 else _jitter(rng, (230, 192, 170), 8)
    return {
        "fur": fur,
        "inner": np.clip(inner, 0, 255),
        "muzzle": np.clip(fur * 0.6 + 255 * 0.4, 0, 255),
        "eye": _jitter(rng, (22, 16, 12), 4),
        "ribbon": _jitter(rng, _pick(rng, [(200, 30, 40), (40, 70, 170), (120, 40, 140)]), 8),
    }


@dataclass(frozen=True)
class _Kind:
    parts: Callable[[np.random.Generator], list[_Part]]
    palette: Callable[[np.random.Generator], dict[str, _Colour]]
    grain: float  # fine texture noise (fur is grainy, ceramic smooth)
    mottle: float  # low-frequency colour variation over the object


_KINDS: dict[str, _Kind] = {
    "car_(sedan)": _Kind(_car_parts, _car_palette, grain=3.0, mottle=4.0),
    "strawberry": _Kind(_strawberry_parts, _strawberry_palette, grain=5.0, mottle=10.0),
    "teapot": _Kind(_teapot_parts, _teapot_palette, grain=2.0, mottle=4.0),
    "teddy_bear": _Kind(_teddy_parts, _teddy_palette, grain=16.0, mottle=10.0),
}


# --------------------------------------------------------------------------- photos


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _cv_points(points: np.ndarray) -> np.ndarray:
    return np.round(points * _SUBPIXEL).astype(np.int32).reshape(-1, 1, 2)


def _all_points(parts: list[_Part]) -> np.ndarray:
    return np.vstack([p.points for p in parts])


def _place(parts: list[_Part], rng: np.random.Generator, size: int) -> np.ndarray:
    """Object -> pixel affine: random flip, tilt, scale (bbox 20-60% of the image) and position."""
    flip = -1.0 if rng.random() < 0.5 else 1.0
    a = math.radians(rng.uniform(-15, 15))
    linear = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.diag(
        [flip, 1.0]
    )
    q = _all_points(parts) @ linear.T
    low, high = q.min(0), q.max(0)
    w, h = high - low
    scale = size * math.sqrt(rng.uniform(0.2, 0.6) / (w * h))
    margin = max(3.0, 0.02 * size)
    scale = min(scale, (size - 2 * margin) / w, (size - 2 * margin) / h)
    left = rng.uniform(margin, max(margin, size - margin - w * scale))
    top = rng.uniform(margin, max(margin, size - margin - h * scale))
    offset = np.array([left, top]) - low * scale
    return np.hstack([scale * linear, offset[:, None]])


def _random_colour(rng: np.random.Generator, value: tuple[float, float] = (0.2, 0.92)) -> _Colour:
    r, g, b = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.08, 0.75), rng.uniform(*value))
    return np.array([r, g, b]) * 255


def _smooth_noise(rng: np.random.Generator, size: int, cells: int, channels: int = 1) -> np.ndarray:
    """Low-frequency noise in about [-1, 1]: a small random grid upscaled smoothly."""
    grid = rng.normal(0, 0.5, (cells, cells, channels)).astype(np.float32)
    out = cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    return out.reshape(size, size, channels)


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A non-white background: gradient, radial, blobs, wall+table or blurred clutter."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    kind = int(rng.integers(5))
    c1, c2 = _random_colour(rng), _random_colour(rng)
    if kind == 0:
        a = rng.uniform(0, 2 * math.pi)
        t = xx * math.cos(a) + yy * math.sin(a)
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        bg = c1 + (c2 - c1) * t[..., None]
    elif kind == 1:
        cx, cy = rng.uniform(0, 1, 2)
        t = np.clip(np.hypot(xx - cx, yy - cy) / rng.uniform(0.6, 1.1), 0, 1)
        bg = c1 + (c2 - c1) * t[..., None]
    elif kind == 2:
        bg = np.broadcast_to(c1, (size, size, 3)).copy()
        for _ in range(int(rng.integers(3, 8))):
            cx, cy = rng.uniform(-0.1, 1.1, 2)
            sigma = rng.uniform(0.1, 0.35)
            w = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)) * rng.uniform(0.5, 1)
            bg = bg * (1 - w[..., None]) + _random_colour(rng) * w[..., None]
    elif kind == 3:
        horizon = rng.uniform(0.45, 0.85)
        wall = c1 * (1 - 0.25 * yy[..., None])
        grain = np.sin(
            2 * math.pi * (yy * rng.uniform(8, 25) + 0.15 * _smooth_noise(rng, size, 5)[..., 0])
        )
        table = c2 * (0.9 + 0.08 * grain[..., None])
        t = np.clip((yy - horizon) * size / 3.0, 0, 1)[..., None]
        bg = wall * (1 - t) + table * t
    else:
        bg = c1 + (c2 - c1) * yy[..., None]
        bg = bg.astype(np.float32)
        for _ in range(int(rng.integers(15, 40))):
            colour = tuple(float(v) for v in _random_colour(rng, (0.1, 0.9)))
            x0, y0 = (rng.uniform(-0.1, 1.0, 2) * size).astype(int)
            extent = int(rng.uniform(0.05, 0.3) * size)
            shape = int(rng.integers(3))
            if shape == 0:
                cv2.rectangle(
                    bg, (int(x0), int(y0)), (int(x0 + extent), int(y0 + extent // 2)), colour, -1
                )
            elif shape == 1:
                cv2.circle(bg, (int(x0), int(y0)), max(2, extent // 2), colour, -1, cv2.LINE_AA)
            else:
                x1, y1 = (rng.uniform(0, 1, 2) * size).astype(int)
                cv2.line(
                    bg,
                    (int(x0), int(y0)),
                    (int(x1), int(y1)),
                    colour,
                    max(1, extent // 8),
                    cv2.LINE_AA,
                )
        sigma = rng.uniform(1.5, 4.0) * size / 256
        bg = cv2.GaussianBlur(bg, (0, 0), sigma)
    bg = np.asarray(bg, np.float32)
    bg += _smooth_noise(rng, size, int(rng.integers(3, 8)), 3) * rng.uniform(0, 25)
    bg += rng.normal(0, rng.uniform(1, 7), (size, size, 1)).astype(np.float32)
    # Keep it clearly non-white: a white background would make segmentation trivial.
    mean = float(bg.mean())
    if mean > 200:
        bg *= 200 / mean
    return np.clip(bg, 0, 235)


def _part_mask(
    part: _Part, points: np.ndarray, scale: float, size: int
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """Anti-aliased coverage of one part on its bounding-box crop, and the crop's corner."""
    pad = 3 + int(part.width * scale)
    x0 = max(0, int(points[:, 0].min()) - pad)
    y0 = max(0, int(points[:, 1].min()) - pad)
    x1 = min(size, int(points[:, 0].max()) + pad + 1)
    y1 = min(size, int(points[:, 1].max()) + pad + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    local = _cv_points(points - (x0, y0))
    if part.closed:
        cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, _SUBPIXEL_SHIFT)
    else:
        thickness = max(1, round(part.width * scale))
        cv2.polylines(mask, [local], False, 255, thickness, cv2.LINE_AA, _SUBPIXEL_SHIFT)
    return mask, (x0, y0)


def _render_photo(
    parts: list[_Part], kind: _Kind, matrix: np.ndarray, rng: np.random.Generator, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, float object coverage in 0..1)."""
    palette = kind.palette(rng)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    light_angle = math.radians(rng.uniform(-160, -20))  # mostly from above
    light = np.array([math.cos(light_angle), math.sin(light_angle)])
    obj = np.zeros((size, size, 3), np.float32)
    alpha = np.zeros((size, size), np.float32)
    for part in parts:
        points = _apply(matrix, part.points)
        drawn = _part_mask(part, points, scale, size)
        if drawn is None:
            continue
        mask, (x0, y0) = drawn
        cover = mask.astype(np.float32) / 255
        h, w = mask.shape
        dist = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 3)
        radius = max(float(dist.max()), 1.0)
        # Darker towards the part's edge: reads as a rounded volume.
        shade = (1 - part.relief) + part.relief * np.sqrt(dist / radius)
        colour = (
            np.broadcast_to(palette[part.role].astype(np.float32), (h, w, 3)) * shade[..., None]
        )
        if part.gloss > 0 and radius > 2:
            centre = points.mean(0) - (x0, y0) + light * 0.45 * radius
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            spot = np.exp(
                -((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * (0.3 * radius) ** 2)
            )
            colour = colour + (part.gloss * 170 * spot)[..., None]
        region = (slice(y0, y0 + h), slice(x0, x0 + w))
        obj[region] = obj[region] * (1 - cover[..., None]) + colour * cover[..., None]
        alpha[region] = alpha[region] + cover * (1 - alpha[region])

    all_px = _apply(matrix, _all_points(parts))
    centre = all_px.mean(0)
    reach = max(float(np.ptp(all_px, axis=0).max()) / 2, 1.0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    directional = (
        1
        + rng.uniform(0.15, 0.3)
        * ((xx - centre[0]) * light[0] + (yy - centre[1]) * light[1])
        / reach
    )
    obj *= np.clip(directional, 0.55, 1.3)[..., None]
    grain = rng.normal(0, kind.grain, (size, size)).astype(np.float32)
    grain = cv2.GaussianBlur(grain, (0, 0), 0.6)
    obj += (grain + _smooth_noise(rng, size, 6)[..., 0] * kind.mottle)[..., None]

    bg = _background(rng, size)
    # A soft contact shadow away from the light makes the object/background boundary less trivial.
    shift = -light * 0.05 * size
    shadow = cv2.warpAffine(
        alpha, np.array([[1, 0, shift[0]], [0, 1, shift[1]]], np.float32), (size, size)
    )
    shadow = cv2.GaussianBlur(shadow, (0, 0), 0.03 * size)
    bg *= (1 - rng.uniform(0.25, 0.5) * shadow)[..., None]
    photo = bg * (1 - alpha[..., None]) + obj * alpha[..., None]
    photo = cv2.GaussianBlur(photo, (0, 0), 0.6 * size / 256)
    photo += rng.normal(0, 1.5, photo.shape).astype(np.float32)
    return np.clip(np.round(photo), 0, 255).astype(np.uint8), alpha


def _bbox(alpha: np.ndarray) -> tuple[int, int, int, int]:
    x, y, w, h = cv2.boundingRect((alpha > 0.5).astype(np.uint8))
    return int(x), int(y), int(w), int(h)


# --------------------------------------------------------------------------- sketches


def _resample(points: np.ndarray, closed: bool, step: float) -> np.ndarray:
    """Points every ~step pixels along the polyline (closed: without repeating the start)."""
    path = np.vstack([points, points[:1]]) if closed else points
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = float(arc[-1])
    count = max(4 if closed else 2, int(total / step) + 1)
    targets = np.linspace(0, total, count, endpoint=not closed)
    return np.stack([np.interp(targets, arc, path[:, 0]), np.interp(targets, arc, path[:, 1])], 1)


def _wobble(
    points: np.ndarray, rng: np.random.Generator, amplitude: float, wavelength: float
) -> np.ndarray:
    """Displace along the normal by smooth low-frequency noise plus a little hand tremor."""
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    offset = np.zeros(len(points))
    for _ in range(3):
        lam = wavelength * rng.uniform(0.4, 1.0)
        offset += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * arc / lam + rng.uniform(0, 2 * np.pi))
    offset *= amplitude / 2
    tremor = rng.normal(0, 0.25, len(points))
    offset += np.convolve(tremor, np.ones(3) / 3, mode="same")
    tangent = np.gradient(points, axis=0)
    norm = np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-6)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) / norm
    return points + normal * offset[:, None]


def _sketch_matrix(
    parts: list[_Part], photo_matrix: np.ndarray, rng: np.random.Generator, size: int
) -> np.ndarray:
    """The photo's placement, rescaled 0.85-1.15, tilted and moved a little, kept on the canvas."""
    pts = _apply(photo_matrix, _all_points(parts))
    centre = (pts.min(0) + pts.max(0)) / 2
    scale = rng.uniform(0.85, 1.15)
    a = math.radians(rng.uniform(-4, 4))
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    move = np.clip(rng.normal(0, 0.03 * size, 2), -0.06 * size, 0.06 * size)
    jitter = np.hstack([rot, (centre + move - rot @ centre)[:, None]])
    matrix = np.vstack([jitter, [0, 0, 1]]) @ np.vstack([photo_matrix, [0, 0, 1]])
    matrix = matrix[:2]
    pts = _apply(matrix, _all_points(parts))
    low, high = pts.min(0), pts.max(0)
    margin = 0.03 * size
    fit = min(1.0, (size - 2 * margin) / max(float((high - low).max()), 1e-6))
    if fit < 1.0:
        mid = (low + high) / 2
        matrix = np.hstack([fit * matrix[:, :2], (fit * (matrix[:, 2] - mid) + mid)[:, None]])
        pts = _apply(matrix, _all_points(parts))
        low, high = pts.min(0), pts.max(0)
    shift = np.maximum(margin - low, 0) - np.maximum(high - (size - margin), 0)
    matrix[:, 2] += shift
    return matrix


@dataclass(frozen=True)
class _Hand:
    """How one person draws one sketch."""

    diag: float  # object diagonal in pixels
    thickness: int
    wobble: float  # pixels
    wavelength: float  # pixels
    warp_amp: float
    warp_k: np.ndarray  # (2, 2) spatial frequencies of the whole-drawing warp
    warp_phase: np.ndarray
    dropped: frozenset[str]
    dot_keep: float  # fraction of seeds drawn
    dot_tick: bool  # seeds as short ticks rather than dots

    @classmethod
    def sample(cls, parts: list[_Part], diag: float, size: int, rng: np.random.Generator) -> _Hand:
        drop = {p.group: p.drop for p in parts if not p.essential}
        return cls(
            diag=diag,
            thickness=max(1, round(int(rng.choice([1, 2, 2, 2, 3, 3, 4])) * size / 256)),
            wobble=rng.uniform(0.003, 0.01) * diag,
            wavelength=rng.uniform(0.3, 0.6) * diag,
            warp_amp=rng.uniform(0.01, 0.03) * diag,
            warp_k=rng.normal(0, 1, (2, 2)) * 2 * np.pi / (diag * rng.uniform(1.0, 2.0)),
            warp_phase=rng.uniform(0, 2 * np.pi, 2),
            dropped=frozenset(g for g in sorted(drop) if rng.random() < drop[g]),
            dot_keep=rng.uniform(0.4, 1.0),
            dot_tick=bool(rng.random() < 0.4),
        )

    def warp(self, points: np.ndarray) -> np.ndarray:
        """Proportions remembered slightly wrong: a smooth distortion of the whole drawing."""
        return points + self.warp_amp * np.sin(points @ self.warp_k.T + self.warp_phase)


def _draw_dot(
    canvas: np.ndarray, centre: np.ndarray, hand: _Hand, rng: np.random.Generator
) -> None:
    if hand.dot_tick:
        d = rng.normal(0, 1, 2)
        d *= 0.012 * hand.diag / max(float(np.linalg.norm(d)), 1e-6)
        line = _cv_points(np.stack([centre - d, centre + d]))
        width = max(1, hand.thickness - 1)
        cv2.polylines(canvas, [line], False, 0, width, cv2.LINE_AA, _SUBPIXEL_SHIFT)
    else:
        c = tuple(int(v) for v in np.round(centre * _SUBPIXEL))
        radius = round(max(1.0, hand.thickness * 0.7) * _SUBPIXEL)
        cv2.circle(canvas, c, radius, 0, -1, cv2.LINE_AA, _SUBPIXEL_SHIFT)


def _draw_part(
    canvas: np.ndarray, part: _Part, points: np.ndarray, hand: _Hand, rng: np.random.Generator
) -> None:
    dense = _resample(points, part.closed, 2.0 * canvas.shape[0] / 256)
    extent = float(np.ptp(dense, axis=0).max())
    amp = min(hand.wobble, 0.15 * extent)
    if not part.closed:
        stroke = _wobble(dense, rng, amp, hand.wavelength)
    else:
        dense = np.roll(dense, -int(rng.integers(len(dense))), axis=0)
        shaky = _wobble(np.vstack([dense, dense[:1]]), rng, amp, hand.wavelength)
        if part.sketch == "fill":
            cv2.fillPoly(canvas, [_cv_points(shaky)], 0, cv2.LINE_AA, _SUBPIXEL_SHIFT)
            return
        # Later parts hide the lines of earlier ones, as when a person draws a silhouette.
        cv2.fillPoly(canvas, [_cv_points(shaky)], 255, cv2.LINE_AA, _SUBPIXEL_SHIFT)
        # The pen rarely ends where it started: overshoot or leave a small gap, and drift.
        extra = int(len(dense) * rng.uniform(-0.04, 0.1))
        stroke = (
            np.vstack([shaky, shaky[1 : 1 + extra]]) if extra > 0 else shaky[: len(shaky) + extra]
        )
        ramp = np.linspace(0, 1, len(stroke))[:, None]
        stroke = stroke + ramp * rng.normal(0, 0.012 * extent + 0.3, 2)
    if len(stroke) >= 2:
        line = _cv_points(stroke)
        cv2.polylines(canvas, [line], False, 0, hand.thickness, cv2.LINE_AA, _SUBPIXEL_SHIFT)


def _render_sketch(
    parts: list[_Part], photo_matrix: np.ndarray, rng: np.random.Generator, size: int
) -> np.ndarray:
    """Black anti-aliased strokes on white (uint8, H x W x 3) drawn from the same parts."""
    matrix = _sketch_matrix(parts, photo_matrix, rng, size)
    pts = _apply(matrix, _all_points(parts))
    hand = _Hand.sample(parts, float(np.linalg.norm(pts.max(0) - pts.min(0))), size, rng)
    canvas = np.full((size, size), 255, np.uint8)
    for part in parts:
        if part.sketch == "skip" or part.group in hand.dropped:
            continue
        points = _apply(matrix, part.points)
        if not part.essential:
            # Details land a little off and a little too big or small.
            centroid = points.mean(0)
            points = centroid + (points - centroid) * rng.uniform(0.9, 1.1)
            points = points + rng.normal(0, 0.008 * hand.diag, 2)
        points = hand.warp(points)
        if part.sketch == "dot":
            if rng.random() <= hand.dot_keep:
                _draw_dot(canvas, points.mean(0), hand, rng)
        else:
            _draw_part(canvas, part, points, hand, rng)
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


# --------------------------------------------------------------------------- ids and lists


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
class _CategoryPlan:
    name: str
    index: int  # position in SUPPORTED_CATEGORIES: seeds do not depend on the config's order
    photo_ids: list[str]
    sketch_counts: list[int]
    flags: dict[str, set[str]]  # list name -> sketch ids
    testset: set[str]  # photo ids


def _plan_category(name: str, config: SyntheticConfig) -> _CategoryPlan:
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
    return _CategoryPlan(name, index, photo_ids, [int(c) for c in counts], flags, test)


# --------------------------------------------------------------------------- writing


def _encode(image_rgb: np.ndarray, suffix: str) -> bytes:
    params = (
        [cv2.IMWRITE_JPEG_QUALITY, _JPEG_QUALITY]
        if suffix == ".jpg"
        else [cv2.IMWRITE_PNG_COMPRESSION, 3]
    )
    ok, buffer = cv2.imencode(suffix, image_rgb[..., ::-1], params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {suffix} image")
    return buffer.tobytes()


def _check_replaceable(root: Path) -> None:
    """Refuse to replace a directory that is not an earlier synthetic dataset (e.g. real data)."""
    if root.exists() and (
        not root.is_dir() or (any(root.iterdir()) and not (root / _SUMMARY_FILE).is_file())
    ):
        raise FileExistsError(
            f"{root} exists and is not a synthetic Sketchy dataset (no {_SUMMARY_FILE}); "
            "refusing to replace it: remove it or choose another root"
        )


def _write_category(
    plan: _CategoryPlan, config: SyntheticConfig, tmp: Path, bar: tqdm
) -> list[tuple[object, ...]]:
    """Render and write one category's photos and sketches; return its stats.csv rows."""
    kind, size = _KINDS[plan.name], config.image_size
    photo_dir = tmp / PHOTO_ROOT / DEFAULT_AUGMENTATION / plan.name
    sketch_dir = tmp / SKETCH_ROOT / DEFAULT_AUGMENTATION / plan.name
    photo_dir.mkdir(parents=True)
    sketch_dir.mkdir(parents=True)
    rows: list[tuple[object, ...]] = []
    for i in sorted(range(len(plan.photo_ids)), key=lambda j: plan.photo_ids[j]):
        photo_id = plan.photo_ids[i]
        rng = np.random.default_rng([config.seed, _PHOTO, plan.index, i])
        parts = kind.parts(rng)
        matrix = _place(parts, rng, size)
        photo, alpha = _render_photo(parts, kind, matrix, rng, size)
        (photo_dir / f"{photo_id}{PHOTO_SUFFIX}").write_bytes(_encode(photo, PHOTO_SUFFIX))
        bbox = _bbox(alpha)
        for k in range(1, plan.sketch_counts[i] + 1):
            sketch_rng = np.random.default_rng([config.seed, _SKETCH, plan.index, i, k])
            sketch = _render_sketch(parts, matrix, sketch_rng, size)
            sketch_id = f"{photo_id}-{k}"
            path = sketch_dir / f"{sketch_id}{SKETCH_SUFFIX}"
            path.write_bytes(_encode(sketch, SKETCH_SUFFIX))
            flag = {name: int(sketch_id in ids) for name, ids in plan.flags.items()}
            rows.append(
                (
                    stats_category_name(plan.name),
                    photo_id,
                    k,
                    flag["error"],
                    flag["context"],
                    flag["ambiguous"],
                    flag["pose"],
                    *bbox,
                    size,
                    size,
                )
            )
        bar.update()
    return rows


def _write_info(info: Path, plans: list[_CategoryPlan], rows: list[tuple[object, ...]]) -> None:
    info.mkdir()
    for name, filename in INVALID_LIST_FILES.items():
        ids = sorted(s for plan in plans for s in plan.flags[name])
        (info / filename).write_text("".join(f"{s}\n" for s in ids), encoding="utf-8")
    lines = sorted(f"{plan.name}/{pid}{PHOTO_SUFFIX}" for plan in plans for pid in plan.testset)
    (info / TESTSET_FILE).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    with (info / STATS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(_STATS_HEADER)
        writer.writerows(rows)


def generate_synthetic_sketchy(
    root: str | os.PathLike, config: SyntheticConfig = _DEFAULT_CONFIG, *, progress: bool = True
) -> dict:
    """Write the dataset to `root` (replacing it atomically) and return a summary dict:
    {"photos": int, "sketches": int, "categories": [...], "seed": int, "config_hash": str}.

    An existing `root` is replaced only if it is empty or an earlier synthetic dataset.
    """
    if not isinstance(config, SyntheticConfig):
        raise TypeError(f"config must be a SyntheticConfig, got {type(config).__name__}")
    root = Path(root)
    _check_replaceable(root)
    plans = [_plan_category(name, config) for name in config.categories]
    total = len(plans) * config.photos_per_category
    rows: list[tuple[object, ...]] = []
    with (
        atomic_directory(root) as tmp,
        tqdm(total=total, desc="synthetic sketchy", unit="photo", disable=not progress) as bar,
    ):
        for plan in plans:
            rows += _write_category(plan, config, tmp, bar)
        _write_info(tmp / INFO_ROOT, plans, rows)
        summary: dict[str, Any] = {
            "photos": total,
            "sketches": len(rows),
            "categories": list(config.categories),
            "seed": config.seed,
            "config_hash": config_hash(config),
        }
        record = {**summary, "config": _config_dict(config)}
        text = json.dumps(record, indent=2, sort_keys=True) + "\n"
        (tmp / _SUMMARY_FILE).write_text(text, encoding="utf-8")
    return summary
