"""Photo-likeness on small drawn fixtures (seeded textures, cv2 shapes)."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from sketch_to_photo.evaluation.photo_likeness import (
    PHOTO_FEATURE_NAMES,
    PhotoStatistics,
    kernel_distance,
    photo_features,
)
from sketch_to_photo.evaluation.shape_metrics import painted_masks
from tests.evaluation.test_shape_metrics import SIZE, batch_of, white_canvas


def _texture(rng: np.random.Generator, size: int) -> np.ndarray:
    """Zero-mean texture over several scales (photos have detail at every scale)."""
    total = np.zeros((size, size), np.float32)
    for sigma, weight in ((0.8, 1.0), (2.5, 1.0), (6.0, 1.0)):
        octave = cv2.GaussianBlur(rng.normal(size=(size, size)).astype(np.float32), (0, 0), sigma)
        total += weight * octave / (octave.std() + 1e-6)
    return total / 3


def _objects(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Textured ellipses with a few dark parts on white, drawn at 2x and shrunk (soft borders
    like a photo cut-out), and their flat-colour copies."""
    rng = np.random.default_rng(seed)
    big = 2 * SIZE
    textured = np.empty((count, SIZE, SIZE, 3), np.uint8)
    flat = np.empty_like(textured)
    for i in range(count):
        mask = np.zeros((big, big), np.uint8)
        centre = tuple(int(v) for v in rng.integers(52, 76, 2))
        axes = tuple(int(v) for v in rng.integers(24, 46, 2))
        cv2.ellipse(mask, centre, axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
        colour = rng.uniform(50, 200, 3)
        body = colour + 45 * _texture(rng, big)[..., None] * rng.uniform(0.6, 1.4, 3)
        body = np.clip(body, 0, 255).astype(np.uint8)
        for _ in range(3):
            start, end = rng.integers(30, 98, 2), rng.integers(30, 98, 2)
            cv2.line(body, tuple(map(int, start)), tuple(map(int, end)), (30, 25, 20), 3)
        inside = mask.astype(bool)[..., None]
        mean_colour = body[mask.astype(bool)].mean(axis=0)
        white = np.full((big, big, 3), 255.0)
        textured[i] = _shrink(np.where(inside, body, white))
        flat[i] = _shrink(np.where(inside, mean_colour, white))
    return textured, flat


def _shrink(image: np.ndarray) -> np.ndarray:
    return cv2.resize(np.rint(image).astype(np.uint8), (SIZE, SIZE), interpolation=cv2.INTER_AREA)


def _blur(images: np.ndarray, sigma: float) -> np.ndarray:
    return np.stack([cv2.GaussianBlur(image, (0, 0), sigma) for image in images])


@pytest.fixture(scope="module")
def statistics() -> PhotoStatistics:
    reference, _ = _objects(seed=0, count=80)
    return PhotoStatistics.fit(reference)


def test_photo_likeness_ranks_textured_objects_above_blurred_flat_and_sketched_ones(statistics):
    photos, flat = _objects(seed=1, count=40)
    outlines = np.stack([_outline(photo) for photo in photos])
    constant = np.repeat(photos.mean(axis=0, keepdims=True).astype(np.uint8), len(photos), 0)
    real = statistics.kid(photos)
    others = {
        "blur 1": statistics.kid(_blur(photos, 1.0)),
        "blur 2": statistics.kid(_blur(photos, 2.0)),
        "flat colour": statistics.kid(flat),
        "outline sketch": statistics.kid(outlines),
        "mean image": statistics.kid(constant),
    }
    assert all(score > 20 * max(real, 0.5) for score in others.values()), (real, others)
    assert others["blur 2"] > others["blur 1"]  # more blur, less like a photo


def _outline(photo: np.ndarray) -> np.ndarray:
    """A sketch of the photo's silhouette: black strokes on white."""
    mask = painted_masks(photo[None])[0].astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    sketch = np.full_like(photo, 255)
    cv2.drawContours(sketch, contours, -1, (0, 0, 0), 1)
    return sketch


def test_fit_drops_repeated_photos_and_is_deterministic():
    photos, _ = _objects(seed=2, count=30)
    once = PhotoStatistics.fit(photos)
    repeated = PhotoStatistics.fit(np.concatenate([photos, photos[::-1], photos]))
    assert len(repeated.reference) == len(once.reference) == 30
    probe = _blur(photos[:10], 1.5)
    assert repeated.kid(probe) == once.kid(probe)
    with pytest.raises(ValueError, match="64x64"):
        once.kid(np.full((2, 32, 32, 3), 255, np.uint8))


def test_features_are_finite_for_blank_black_and_single_pixel_images():
    blank, black, dot = white_canvas(), np.zeros((SIZE, SIZE, 3), np.uint8), white_canvas()
    dot[5, 5] = 0
    features = photo_features(batch_of(blank, black, dot))
    assert features.shape == (3, len(PHOTO_FEATURE_NAMES))
    assert np.isfinite(features).all()
    painted = PHOTO_FEATURE_NAMES.index("painted_share")
    assert features[:, painted].tolist() == [0.0, 1.0, 1 / SIZE**2]


def test_kernel_distance_is_the_unbiased_mmd_with_the_cubic_kernel():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(7, 4)), rng.normal(0.5, 1.0, size=(5, 4))

    def k(x: np.ndarray, y: np.ndarray) -> float:
        return float((x @ y / 4 + 1) ** 3)

    within_a = sum(k(a[i], a[j]) for i in range(7) for j in range(7) if i != j) / 42
    within_b = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / 20
    across = sum(k(x, y) for x in a for y in b) / 35
    assert kernel_distance(a, b) == pytest.approx(within_a + within_b - 2 * across)
    assert kernel_distance(a, b) == pytest.approx(kernel_distance(b, a))
    same = rng.normal(size=(400, 4))
    assert abs(kernel_distance(same[:200], same[200:])) < 0.1 * kernel_distance(same, same + 1)
    with pytest.raises(ValueError, match="at least two"):
        kernel_distance(a[:1], b)


def test_the_module_does_not_import_tensorflow():
    code = (
        "import sys, sketch_to_photo.evaluation.photo_likeness; "
        "sys.exit('tensorflow' in sys.modules or 'kedro' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
