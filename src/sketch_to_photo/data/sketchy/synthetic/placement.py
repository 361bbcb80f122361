"""Where an object lands on the canvas: object -> pixel affines for a photo and its sketches,
and pixel points in the fixed-point form cv2 draws smoothly."""

from __future__ import annotations

import math

import numpy as np

from sketch_to_photo.data.sketchy.synthetic.objects import Part

SUBPIXEL_SHIFT = 4  # cv2 drawing with 4 fractional bits: smooth anti-aliased curves
SUBPIXEL = float(1 << SUBPIXEL_SHIFT)


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) points through a (2, 3) affine."""
    return points @ matrix[:, :2].T + matrix[:, 2]


def cv_points(points: np.ndarray) -> np.ndarray:
    """Pixel points as cv2 polygon input with SUBPIXEL_SHIFT fractional bits."""
    return np.round(points * SUBPIXEL).astype(np.int32).reshape(-1, 1, 2)


def all_points(parts: list[Part]) -> np.ndarray:
    """Every part's points in one (N, 2) array: the object's extent."""
    return np.vstack([p.points for p in parts])


def place_photo(parts: list[Part], rng: np.random.Generator, size: int) -> np.ndarray:
    """Object -> pixel affine: random flip, tilt, scale (bbox 20-60% of the image) and position."""
    flip = -1.0 if rng.random() < 0.5 else 1.0
    a = math.radians(rng.uniform(-15, 15))
    linear = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) @ np.diag(
        [flip, 1.0]
    )
    q = all_points(parts) @ linear.T
    low, high = q.min(0), q.max(0)
    w, h = high - low
    scale = size * math.sqrt(rng.uniform(0.2, 0.6) / (w * h))
    margin = max(3.0, 0.02 * size)
    scale = min(scale, (size - 2 * margin) / w, (size - 2 * margin) / h)
    left = rng.uniform(margin, max(margin, size - margin - w * scale))
    top = rng.uniform(margin, max(margin, size - margin - h * scale))
    offset = np.array([left, top]) - low * scale
    return np.hstack([scale * linear, offset[:, None]])


def place_sketch(
    parts: list[Part], photo_matrix: np.ndarray, rng: np.random.Generator, size: int
) -> np.ndarray:
    """The photo's placement, rescaled 0.85-1.15, tilted and moved a little, kept on the canvas."""
    pts = apply_affine(photo_matrix, all_points(parts))
    centre = (pts.min(0) + pts.max(0)) / 2
    scale = rng.uniform(0.85, 1.15)
    a = math.radians(rng.uniform(-4, 4))
    rot = scale * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    move = np.clip(rng.normal(0, 0.03 * size, 2), -0.06 * size, 0.06 * size)
    jitter = np.hstack([rot, (centre + move - rot @ centre)[:, None]])
    matrix = np.vstack([jitter, [0, 0, 1]]) @ np.vstack([photo_matrix, [0, 0, 1]])
    matrix = matrix[:2]
    pts = apply_affine(matrix, all_points(parts))
    low, high = pts.min(0), pts.max(0)
    margin = 0.03 * size
    fit = min(1.0, (size - 2 * margin) / max(float((high - low).max()), 1e-6))
    if fit < 1.0:
        mid = (low + high) / 2
        matrix = np.hstack([fit * matrix[:, :2], (fit * (matrix[:, 2] - mid) + mid)[:, None]])
        pts = apply_affine(matrix, all_points(parts))
        low, high = pts.min(0), pts.max(0)
    shift = np.maximum(margin - low, 0) - np.maximum(high - (size - margin), 0)
    matrix[:, 2] += shift
    return matrix
