"""Image-quality metrics for generated photos (plain NumPy/TensorFlow, no Kedro).

All functions take float32 images in [-1, 1] (the models' range) and report on the [0, 1]
scale: L1 = mean absolute error, SSIM and PSNR as ``tf.image`` computes them (max value 1).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def per_image_metrics(generated: np.ndarray, real: np.ndarray) -> dict[str, np.ndarray]:
    """L1, SSIM and PSNR for each image of a batch, shape (N,) each."""
    if generated.shape != real.shape:
        raise ValueError(
            f"generated {generated.shape} and real {real.shape} images differ in shape"
        )
    fake01 = tf.clip_by_value((tf.convert_to_tensor(generated, tf.float32) + 1.0) / 2.0, 0.0, 1.0)
    real01 = tf.clip_by_value((tf.convert_to_tensor(real, tf.float32) + 1.0) / 2.0, 0.0, 1.0)
    # SSIM's 11x11 Gaussian window needs at least 11 pixels a side.
    filter_size = min(11, int(real01.shape[1]), int(real01.shape[2]))
    return {
        "l1": tf.reduce_mean(tf.abs(fake01 - real01), axis=[1, 2, 3]).numpy(),
        "ssim": tf.image.ssim(fake01, real01, max_val=1.0, filter_size=filter_size).numpy(),
        "psnr": tf.image.psnr(fake01, real01, max_val=1.0).numpy(),
    }


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (the FID formula).

    Tr(sqrt(S_a S_b)) is the sum of the square roots of the eigenvalues of S_a S_b, which are
    real and non-negative for covariance matrices (small negative noise is clipped).
    """
    if len(features_a) < 2 or len(features_b) < 2:
        raise ValueError("the Fréchet distance needs at least two feature vectors per set")
    mean_a, mean_b = features_a.mean(axis=0), features_b.mean(axis=0)
    cov_a = np.cov(features_a, rowvar=False)
    cov_b = np.cov(features_b, rowvar=False)
    eigenvalues = np.linalg.eigvals(cov_a @ cov_b)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return float(
        ((mean_a - mean_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    )
