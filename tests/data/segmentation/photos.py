"""Photos and measures shared by the segmentation tests."""

import cv2
import numpy as np


def photo_with_disc(size: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A red disc on a noisy green-blue gradient, and the disc's true mask."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size, dtype=np.float32)[None, :, None]
    background = np.array([40, 140, 90]) * (1 - ramp) + np.array([30, 90, 160]) * ramp
    photo = np.clip(background + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    truth = np.zeros((size, size), np.uint8)
    cv2.circle(truth, (size // 2 + 6, size // 2 - 4), size // 4, 1, -1)
    photo[truth == 1] = (210, 30, 40)
    return photo, truth


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.logical_and(a, b).sum() / np.logical_or(a, b).sum())
