"""Edge maps of photos (plain OpenCV, no Kedro, no TensorFlow).

Two uses, one edge detector:

* :func:`edge_map_sketch` turns a photo cut-out into a pseudo-sketch (black strokes on white,
  like Sketchy's sketches) that is aligned with the photo stroke for stroke. Sketchy's own
  sketches are drawn from memory and only loosely aligned, so an L1 loss to the photo teaches
  a blob; mixing aligned pairs into training teaches the outline (SketchyGAN's data idea).
* :func:`photo_edges` finds the edges of an image at the model's size, for the shape metrics
  (does the generated photo's own edge map follow the sketch's strokes?).

Canny's two thresholds come from the median grey level of the object's pixels (the white
background of a cut-out would otherwise set them), so no threshold needs tuning per photo.
"""

from __future__ import annotations

import cv2
import numpy as np

EDGE_METHODS = ("canny", "xdog")
WHITE_LEVEL = 245  # a grey level above this belongs to a cut-out's white background
REFERENCE_SIZE = 256  # the settings below are in pixels of a 256 px image


def auto_canny(
    grey: np.ndarray, *, sigma: float = 0.33, mask: np.ndarray | None = None
) -> np.ndarray:
    """Canny edges (uint8 0/255) with thresholds ``(1 -+ sigma) x`` the median grey level of
    ``mask``'s pixels (default: the pixels that are not white background)."""
    if mask is None:
        mask = grey < WHITE_LEVEL
    level = float(np.median(grey[mask])) if mask.any() else float(np.median(grey))
    lower = int(max(0.0, (1.0 - sigma) * level))
    upper = int(min(255.0, (1.0 + sigma) * level))
    # a dark object gives a low median; keep the upper threshold above the noise floor
    upper = max(upper, 30)
    return cv2.Canny(grey, max(lower, upper // 3), upper, L2gradient=True)


def _xdog(grey: np.ndarray, scale: float) -> np.ndarray:
    """eXtended difference of Gaussians (Winnemoeller 2012), binarised: 255 where a line is."""
    image = grey.astype(np.float32) / 255.0
    sigma = 0.9 * scale
    fine = cv2.GaussianBlur(image, (0, 0), sigma)
    coarse = cv2.GaussianBlur(image, (0, 0), 1.6 * sigma)
    difference = fine - 0.98 * coarse
    soft = np.where(difference >= -0.005, 1.0, 1.0 + np.tanh(70.0 * (difference + 0.005)))
    return np.where(soft < 0.5, 255, 0).astype(np.uint8)


def _drop_small_pieces(edges: np.ndarray, min_pixels: int) -> np.ndarray:
    """Remove connected edge pieces under ``min_pixels`` (texture speckle, not outlines)."""
    if min_pixels <= 1:
        return edges
    count, labels, stats, _ = cv2.connectedComponentsWithStats(edges, connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= min_pixels
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _drop_random_pieces(edges: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    """Remove a random ``share`` of the connected edge pieces, never the largest (the outline,
    which a drawer keeps): a drawer leaves details out."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(edges, connectivity=8)
    if count <= 2:
        return edges
    keep = rng.random(count) >= share
    keep[0] = False  # the background
    keep[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))] = True
    return np.where(keep[labels], 255, 0).astype(np.uint8)


def _wobble(edges: np.ndarray, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """Displace ``edges`` by a smooth random field of up to about ``amplitude`` pixels: a hand's
    wobble, so the strokes stay near the outline without lying exactly on it."""
    size = edges.shape[0]
    coarse = rng.uniform(-1.0, 1.0, (2, 4, 4)).astype(np.float32)
    field = [cv2.resize(c, edges.shape[::-1], interpolation=cv2.INTER_CUBIC) for c in coarse]
    grid_y, grid_x = np.mgrid[0:size, 0 : edges.shape[1]].astype(np.float32)
    return cv2.remap(
        edges,
        grid_x + amplitude * field[0],
        grid_y + amplitude * field[1],
        interpolation=cv2.INTER_NEAREST,
        borderValue=0,
    )


def edge_map_sketch(
    photo: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    method: str = "canny",
    sigma: float = 0.33,
    min_piece: int = 12,
    stroke_width: int = 2,
    wobble: float = 0.0,
    piece_dropout: float = 0.0,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A pseudo-sketch of ``photo`` (H, W, 3) uint8 RGB: (H, W, 3) uint8, black strokes on white.

    ``mask`` (1 = object) limits the strokes to the object and its outline and picks the
    pixels whose median grey level sets Canny's thresholds. The photo is smoothed with an
    edge-preserving bilateral filter first, so texture (fur, grain) gives fewer strokes than
    outlines. ``min_piece`` (pixels at 256 px) drops speckle; ``stroke_width`` (pixels at
    256 px) thickens the one-pixel edges to Sketchy's pen width. ``piece_dropout`` (a share of
    the pieces) and ``wobble`` (pixels at 256 px) make a looser variant with ``rng``, more like
    a drawing: some details left out, strokes a little off the outline.
    """
    if method not in EDGE_METHODS:
        raise ValueError(f"edge method must be one of {EDGE_METHODS}, got {method!r}")
    if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be (H, W, 3) uint8, got {photo.shape} {photo.dtype}")
    scale = max(photo.shape[:2]) / REFERENCE_SIZE
    grey = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    smooth = cv2.bilateralFilter(grey, max(3, round(7 * scale)) | 1, 50, 5 * scale)
    object_pixels = None if mask is None else mask.astype(bool)
    if method == "canny":
        edges = auto_canny(smooth, sigma=sigma, mask=object_pixels)
    else:
        edges = _xdog(smooth, scale)
    if object_pixels is not None:
        # the outline lies on the mask's border: keep a band just outside the object too
        band = max(1, round(2 * scale))
        near = cv2.dilate(object_pixels.astype(np.uint8), np.ones((2 * band + 1,) * 2, np.uint8))
        edges = np.where(near > 0, edges, 0).astype(np.uint8)
    edges = _drop_small_pieces(edges, round(min_piece * scale * scale))
    if piece_dropout > 0 or wobble > 0:
        if rng is None:
            raise ValueError("a loose variant (piece_dropout or wobble) needs an rng")
        if piece_dropout > 0:
            edges = _drop_random_pieces(edges, piece_dropout, rng)
        if wobble > 0:
            edges = _wobble(edges, wobble * scale, rng)
    width = max(1, round(stroke_width * scale))
    if width > 1:
        edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width)))
    sketch = np.where(edges > 0, 0, 255).astype(np.uint8)
    return np.repeat(sketch[..., None], 3, axis=2)


def photo_edges(images: np.ndarray, *, sigma: float = 0.33) -> np.ndarray:
    """Edges of each image of ``images`` (N, S, S, 3) uint8: bool (N, S, S).

    At the model's size (64 px) there is no room for smoothing; the thresholds come from the
    median grey level of the pixels that are not white background.
    """
    out = np.zeros(images.shape[:3], bool)
    for i, image in enumerate(images):
        grey = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
        out[i] = auto_canny(grey, sigma=sigma) > 0
    return out
