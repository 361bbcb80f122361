"""Edge maps of photos: the pseudo-sketch follows the photo's outline, drawn like a sketch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.edges import edge_map_sketch, photo_edges


def _photo(size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """A textured orange disc with a dark stripe, cut out on white, and its mask."""
    rng = np.random.default_rng(0)
    photo = np.full((size, size, 3), 255, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    cv2.circle(mask, (size // 2, size // 2), size // 3, 1, -1)
    texture = np.clip(rng.normal(0, 6, (size, size, 3)) + (230, 120, 40), 0, 255).astype(np.uint8)
    photo[mask > 0] = texture[mask > 0]
    cv2.line(photo, (size // 3, size // 2), (2 * size // 3, size // 2), (40, 20, 10), size // 40)
    return photo, mask


@pytest.mark.parametrize("method", ["canny", "xdog"])
def test_edge_map_is_black_strokes_on_white_along_the_outline(method: str):
    photo, mask = _photo()
    sketch = edge_map_sketch(photo, mask, method=method)
    assert sketch.shape == photo.shape and sketch.dtype == np.uint8
    assert set(np.unique(sketch)) == {0, 255}
    ink = sketch[..., 0] == 0
    outline = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    near_outline = cv2.dilate(outline.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    # most of the outline is drawn, and the grain of the texture is not
    assert (near_outline & ink).sum() / outline.sum() > 0.5
    assert ink[mask > 0].mean() < 0.15


def test_strokes_are_thickened_and_speckle_dropped():
    photo, mask = _photo()
    thin = edge_map_sketch(photo, mask, stroke_width=1)[..., 0] == 0
    thick = edge_map_sketch(photo, mask, stroke_width=3)[..., 0] == 0
    assert thick.sum() > 1.5 * thin.sum()
    noisy = photo.copy()
    noisy[100:103, 100:103] = 0  # a 3x3 speck inside the object
    specks = edge_map_sketch(noisy, mask, min_piece=0)[..., 0] == 0
    cleaned = edge_map_sketch(noisy, mask, min_piece=40)[..., 0] == 0
    assert specks[98:105, 98:105].any() and not cleaned[98:105, 98:105].any()


def _pieces(ink: np.ndarray) -> int:
    return cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)[0] - 1


def test_loose_variant_leaves_details_out_keeps_the_outline_and_wobbles_near_it():
    photo, mask = _photo()
    for x in (100, 130, 160):  # three dark dots inside the object: details a drawer may skip
        cv2.circle(photo, (x, 110), 6, (30, 15, 5), -1)
    exact = edge_map_sketch(photo, mask)[..., 0] == 0
    dropped = [
        edge_map_sketch(photo, mask, piece_dropout=0.6, rng=np.random.default_rng(seed))[..., 0]
        == 0
        for seed in range(6)
    ]
    assert all(_pieces(d) <= _pieces(exact) for d in dropped)
    assert any(_pieces(d) < _pieces(exact) for d in dropped)
    outline = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    near_outline = cv2.dilate(outline.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    for d in dropped:  # the largest piece, the outline, is never left out
        assert (near_outline & d).sum() >= 0.9 * (near_outline & exact).sum()

    def wobbled(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return edge_map_sketch(photo, mask, wobble=8.0, rng=rng)[..., 0] == 0

    first, again, other = wobbled(1), wobbled(1), wobbled(2)
    np.testing.assert_array_equal(first, again)  # the same seed, the same drawing
    assert not np.array_equal(first, other) and not np.array_equal(first, exact)
    # off the exact outline, but within the wobble's reach of it
    reach = cv2.dilate(exact.astype(np.uint8), np.ones((2 * 8 + 3,) * 2, np.uint8)) > 0
    assert (first & ~exact).sum() > 0.2 * first.sum()
    assert (first & ~reach).sum() < 0.02 * first.sum()
    with pytest.raises(ValueError, match="needs an rng"):
        edge_map_sketch(photo, mask, wobble=4.0)


def test_bad_input_is_refused_with_what_is_expected():
    photo, mask = _photo(64)
    with pytest.raises(ValueError, match="edge method must be one of"):
        edge_map_sketch(photo, mask, method="sobel")
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        edge_map_sketch(photo.astype(np.float32), mask)


def test_photo_edges_find_a_disc_and_nothing_on_white():
    photo, _ = _photo(64)
    edges = photo_edges(np.stack([photo, np.full_like(photo, 255)]))
    assert edges.shape == (2, 64, 64)
    assert edges[0].sum() > 2 * np.pi * 21 * 0.6 and not edges[1].any()
