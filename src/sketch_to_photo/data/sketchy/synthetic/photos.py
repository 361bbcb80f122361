"""Photo rendering: shaded, textured parts on a varied non-white background."""

from __future__ import annotations

import colorsys
import math

import cv2
import numpy as np

from sketch_to_photo.data.sketchy.synthetic.objects import Colour, Kind, Part
from sketch_to_photo.data.sketchy.synthetic.placement import (
    SUBPIXEL_SHIFT,
    all_points,
    apply_affine,
    cv_points,
)


def _random_colour(rng: np.random.Generator, value: tuple[float, float] = (0.2, 0.92)) -> Colour:
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
    part: Part, points: np.ndarray, scale: float, size: int
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
    local = cv_points(points - (x0, y0))
    if part.closed:
        cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, SUBPIXEL_SHIFT)
    else:
        thickness = max(1, round(part.width * scale))
        cv2.polylines(mask, [local], False, 255, thickness, cv2.LINE_AA, SUBPIXEL_SHIFT)
    return mask, (x0, y0)


def render_photo(
    parts: list[Part], kind: Kind, matrix: np.ndarray, rng: np.random.Generator, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8 photo, float object coverage in 0..1)."""
    palette = kind.palette(rng)
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    light_angle = math.radians(rng.uniform(-160, -20))  # mostly from above
    light = np.array([math.cos(light_angle), math.sin(light_angle)])
    obj = np.zeros((size, size, 3), np.float32)
    alpha = np.zeros((size, size), np.float32)
    for part in parts:
        points = apply_affine(matrix, part.points)
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

    all_px = apply_affine(matrix, all_points(parts))
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


def object_bbox(alpha: np.ndarray) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the pixels the object covers more than half: the stats.csv box."""
    x, y, w, h = cv2.boundingRect((alpha > 0.5).astype(np.uint8))
    return int(x), int(y), int(w), int(h)
