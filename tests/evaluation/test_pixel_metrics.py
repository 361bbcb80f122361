import numpy as np
import pytest

from sketch_to_photo.evaluation.pixel_metrics import frechet_distance, per_image_metrics


def test_identical_images_are_perfect_and_noise_is_not():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (3, 32, 32, 3)).astype(np.float32)
    same = per_image_metrics(real, real)
    assert np.allclose(same["l1"], 0) and np.allclose(same["ssim"], 1, atol=1e-5)
    assert np.all(np.isinf(same["psnr"]) | (same["psnr"] > 80))
    noisy = per_image_metrics(
        np.clip(real + rng.normal(0, 0.2, real.shape), -1, 1).astype(np.float32), real
    )
    assert (
        np.all(noisy["l1"] > 0.02) and np.all(noisy["ssim"] < 0.99) and np.all(noisy["psnr"] < 40)
    )
    # L1 on the [0, 1] scale: all-black vs all-white is 1.
    white, black = np.ones((1, 16, 16, 3), np.float32), -np.ones((1, 16, 16, 3), np.float32)
    assert per_image_metrics(black, white)["l1"][0] == pytest.approx(1.0)


def test_shapes_must_match():
    with pytest.raises(ValueError, match="differ in shape"):
        per_image_metrics(np.zeros((1, 8, 8, 3)), np.zeros((1, 16, 16, 3)))


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_the_shift():
    features = np.random.default_rng(1).normal(size=(200, 8))
    assert frechet_distance(features, features) == pytest.approx(0.0, abs=1e-6)
    near, far = (
        frechet_distance(features, features + 0.5),
        frechet_distance(features, features + 2.0),
    )
    assert near == pytest.approx(8 * 0.25, rel=1e-3) and far == pytest.approx(8 * 4.0, rel=1e-3)
    with pytest.raises(ValueError, match="at least two"):
        frechet_distance(features[:1], features)
