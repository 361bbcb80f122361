"""Sketch rendering: the photo's parts drawn again from memory, black wobbly lines on white."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sketch_to_photo.data.sketchy.synthetic.objects import Part
from sketch_to_photo.data.sketchy.synthetic.placement import (
    SUBPIXEL,
    SUBPIXEL_SHIFT,
    all_points,
    apply_affine,
    cv_points,
    place_sketch,
)


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
    def sample(cls, parts: list[Part], diag: float, size: int, rng: np.random.Generator) -> _Hand:
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
        line = cv_points(np.stack([centre - d, centre + d]))
        width = max(1, hand.thickness - 1)
        cv2.polylines(canvas, [line], False, 0, width, cv2.LINE_AA, SUBPIXEL_SHIFT)
    else:
        c = tuple(int(v) for v in np.round(centre * SUBPIXEL))
        radius = round(max(1.0, hand.thickness * 0.7) * SUBPIXEL)
        cv2.circle(canvas, c, radius, 0, -1, cv2.LINE_AA, SUBPIXEL_SHIFT)


def _draw_part(
    canvas: np.ndarray, part: Part, points: np.ndarray, hand: _Hand, rng: np.random.Generator
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
            cv2.fillPoly(canvas, [cv_points(shaky)], 0, cv2.LINE_AA, SUBPIXEL_SHIFT)
            return
        # Later parts hide the lines of earlier ones, as when a person draws a silhouette.
        cv2.fillPoly(canvas, [cv_points(shaky)], 255, cv2.LINE_AA, SUBPIXEL_SHIFT)
        # The pen rarely ends where it started: overshoot or leave a small gap, and drift.
        extra = int(len(dense) * rng.uniform(-0.04, 0.1))
        stroke = (
            np.vstack([shaky, shaky[1 : 1 + extra]]) if extra > 0 else shaky[: len(shaky) + extra]
        )
        ramp = np.linspace(0, 1, len(stroke))[:, None]
        stroke = stroke + ramp * rng.normal(0, 0.012 * extent + 0.3, 2)
    if len(stroke) >= 2:
        line = cv_points(stroke)
        cv2.polylines(canvas, [line], False, 0, hand.thickness, cv2.LINE_AA, SUBPIXEL_SHIFT)


def render_sketch(
    parts: list[Part], photo_matrix: np.ndarray, rng: np.random.Generator, size: int
) -> np.ndarray:
    """Black anti-aliased strokes on white (uint8, H x W x 3) drawn from the same parts."""
    matrix = place_sketch(parts, photo_matrix, rng, size)
    pts = apply_affine(matrix, all_points(parts))
    hand = _Hand.sample(parts, float(np.linalg.norm(pts.max(0) - pts.min(0))), size, rng)
    canvas = np.full((size, size), 255, np.uint8)
    for part in parts:
        if part.sketch == "skip" or part.group in hand.dropped:
            continue
        points = apply_affine(matrix, part.points)
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
