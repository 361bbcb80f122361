"""The four object kinds: their parts in object coordinates, and per-photo palettes.

Every object is a list of parts (polygons or open strokes, each with a colour role); photos fill
the parts with a palette, sketches outline the same parts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Colour = np.ndarray  # (3,) float RGB in 0..255


@dataclass
class Part:
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


def _car_parts(rng: np.random.Generator) -> list[Part]:
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
        Part(body, "body", "body", essential=True, relief=0.15, gloss=0.35),
        Part(_chaikin(glass_rear, 1), "glass", "windows", relief=0.1, gloss=0.3),
        Part(_chaikin(glass_front, 1), "glass", "windows", relief=0.1, gloss=0.3),
        Part(
            np.array([(pillar, belt + 0.01), (pillar + 0.02, bottom - 0.06)]),
            "trim",
            "door",
            closed=False,
            width=0.014,
        ),
        Part(
            np.array([(pillar + 0.08, -0.04), (pillar + 0.17, -0.04)]),
            "trim",
            "door",
            closed=False,
            width=0.022,
            sketch="skip",
        ),
        Part(_ellipse(0.95, belt + 0.13, 0.05, 0.035), "headlight", "lights", relief=0.0),
        Part(_ellipse(-0.98, belt + 0.12, 0.025, 0.045), "taillight", "lights", relief=0.0),
    ]
    for cx in (wheel_x, -wheel_x):
        parts.append(
            Part(_ellipse(cx, bottom, radius, radius), "tyre", "wheels", relief=0.35, drop=0.05)
        )
        parts.append(
            Part(_ellipse(cx, bottom, radius * 0.55, radius * 0.55), "rim", "rims", relief=0.3)
        )
    return parts


def _strawberry_parts(rng: np.random.Generator) -> list[Part]:
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
    parts = [Part(body, "body", "body", essential=True, relief=0.45, gloss=0.35)]

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
                Part(
                    _ellipse(cx, cy, 0.045, 0.032, angle, n=12),
                    "pit",
                    "seeds",
                    relief=0.0,
                    sketch="skip",
                )
            )
            parts.append(
                Part(
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
        parts.append(Part(leaf @ rot.T + base, "leaf", "crown", relief=0.25, drop=0.1))
    stem = np.array(
        [(0.0, top + 0.02), (0.03, top - 0.12), (0.08 * rng.choice([-1, 1]), top - 0.25)]
    )
    parts.append(Part(stem, "stem", "stem", closed=False, width=0.06))
    return parts


def _teapot_parts(rng: np.random.Generator) -> list[Part]:
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
        Part(handle, "ceramic", "handle", relief=0.3, gloss=0.3, drop=0.08),
        Part(spout, "ceramic", "spout", relief=0.35, gloss=0.4, drop=0.05),
        Part(foot, "ceramic", "foot", relief=0.2),
        Part(body, "ceramic", "body", essential=True, relief=0.5, gloss=0.6),
    ]
    if rng.random() < 0.7:
        x = np.linspace(-0.93 * ax, 0.93 * ax, 20)
        band_y = cy + rng.uniform(-0.15, 0.15) * ay
        band = np.stack([x, band_y + 0.1 * ay * (x / ax) ** 2], 1)
        parts.append(Part(band, "pattern", "pattern", closed=False, width=rng.uniform(0.03, 0.07)))
    parts += [
        Part(lid, "lid", "lid", relief=0.35, gloss=0.5),
        Part(knob, "knob", "knob", relief=0.4, gloss=0.5),
    ]
    return parts


def _teddy_parts(rng: np.random.Generator) -> list[Part]:
    head_r = rng.uniform(0.36, 0.44)
    hy = -0.45
    ear_r = rng.uniform(0.14, 0.19)
    ear_angle = math.radians(rng.uniform(40, 55))
    bw, bh = rng.uniform(0.4, 0.5), rng.uniform(0.45, 0.55)
    arm_angle = rng.uniform(15, 45)
    parts: list[Part] = []
    for side in (-1, 1):
        ex = side * head_r * math.sin(ear_angle)
        ey = hy - head_r * math.cos(ear_angle)
        parts.append(Part(_ellipse(ex, ey, ear_r, ear_r), "fur", "ears", relief=0.4, drop=0.05))
        parts.append(
            Part(
                _ellipse(ex * 0.95, ey + 0.02, ear_r * 0.55, ear_r * 0.55),
                "inner",
                "inner_ears",
                relief=0.2,
            )
        )
    parts.append(Part(_ellipse(0.0, 0.35, bw, bh), "fur", "body", essential=True, relief=0.45))
    if rng.random() < 0.5:
        parts.append(Part(_ellipse(0.0, 0.42, bw * 0.55, bh * 0.55), "inner", "belly", relief=0.2))
    for side in (-1, 1):
        parts.append(
            Part(_ellipse(side * 0.3, 0.82, 0.21, 0.17), "fur", "legs", relief=0.45, drop=0.1)
        )
        parts.append(Part(_ellipse(side * 0.32, 0.85, 0.11, 0.1), "inner", "pads", relief=0.2))
    for side in (-1, 1):
        arm = _ellipse(side * bw * 0.9, 0.2, 0.14, 0.32, angle=-side * arm_angle)
        parts.append(Part(arm, "fur", "arms", relief=0.45, drop=0.1))
    parts += [
        Part(
            _ellipse(0.0, hy, head_r, head_r * 0.95, n=60),
            "fur",
            "head",
            essential=True,
            relief=0.45,
        ),
        Part(_ellipse(0.0, hy + 0.13, 0.17, 0.13), "muzzle", "muzzle", relief=0.3),
        Part(
            _ellipse(0.0, hy + 0.07, 0.065, 0.045),
            "eye",
            "nose",
            relief=0.0,
            gloss=0.4,
            sketch="fill",
        ),
        Part(
            np.array([(0.0, hy + 0.1), (0.0, hy + 0.19)]), "eye", "mouth", closed=False, width=0.018
        ),
        Part(
            _ellipse(0.0, hy + 0.12, 0.08, 0.07, start=30, end=150, n=12),
            "eye",
            "mouth",
            closed=False,
            width=0.018,
        ),
    ]
    for side in (-1, 1):
        eye = _ellipse(side * 0.15, hy - 0.08, 0.045, 0.05)
        parts.append(Part(eye, "eye", "eyes", relief=0.0, gloss=0.5, sketch="fill"))
    if rng.random() < 0.4:
        for side in (-1, 1):
            bow = np.array(
                [
                    (0.0, hy + head_r),
                    (side * 0.2, hy + head_r - 0.08),
                    (side * 0.2, hy + head_r + 0.1),
                ]
            )
            parts.append(Part(bow, "ribbon", "ribbon", relief=0.15))
    return parts


# --------------------------------------------------------------------------- palettes


def _jitter(
    rng: np.random.Generator, rgb: tuple[float, float, float] | np.ndarray, amount: float = 12
) -> Colour:
    return np.clip(np.asarray(rgb, float) + rng.normal(0, amount, 3), 0, 255)


def _pick(
    rng: np.random.Generator, options: list[tuple[float, float, float]]
) -> tuple[float, float, float]:
    return options[int(rng.integers(len(options)))]


def _car_palette(rng: np.random.Generator) -> dict[str, Colour]:
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


def _strawberry_palette(rng: np.random.Generator) -> dict[str, Colour]:
    body = _jitter(rng, _pick(rng, [(205, 25, 35), (222, 42, 40), (178, 18, 30), (230, 58, 48)]), 8)
    return {
        "body": body,
        "pit": body * 0.72,
        "seed": _jitter(rng, (236, 206, 92), 10),
        "leaf": _jitter(rng, _pick(rng, [(52, 132, 40), (72, 150, 52), (40, 108, 36)]), 8),
        "stem": _jitter(rng, (104, 140, 62), 8),
    }


def _teapot_palette(rng: np.random.Generator) -> dict[str, Colour]:
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


def _teddy_palette(rng: np.random.Generator) -> dict[str, Colour]:
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
class Kind:
    parts: Callable[[np.random.Generator], list[Part]]
    palette: Callable[[np.random.Generator], dict[str, Colour]]
    grain: float  # fine texture noise (fur is grainy, ceramic smooth)
    mottle: float  # low-frequency colour variation over the object


KINDS: dict[str, Kind] = {
    "car_(sedan)": Kind(_car_parts, _car_palette, grain=3.0, mottle=4.0),
    "strawberry": Kind(_strawberry_parts, _strawberry_palette, grain=5.0, mottle=10.0),
    "teapot": Kind(_teapot_parts, _teapot_palette, grain=2.0, mottle=4.0),
    "teddy_bear": Kind(_teddy_parts, _teddy_palette, grain=16.0, mottle=10.0),
}
