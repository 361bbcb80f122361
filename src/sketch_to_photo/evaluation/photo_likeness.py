"""Photo-likeness of a set of images: is it distributed like real photos in texture,
sharpness and colour? (NumPy + OpenCV only.)

:class:`PhotoStatistics` is the KID formula (Binkowski et al. 2018) on hand-made features
(:func:`photo_features`) rather than Inception's: no ImageNet weights are needed, and category
features are not used because a category classifier finds a blob of the right colour very
"ant-like" (it ranked blobs above real photos). A coloured blob or a line drawing cannot pass
it; the shape of one image against its sketch is :mod:`sketch_to_photo.evaluation.shape_metrics`.

Images are uint8 (N, S, S, 3) RGB, object cut-outs on white; the texture and colour
statistics are taken over the pixels an image paints
(:func:`~sketch_to_photo.evaluation.shape_metrics.painted_masks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from sketch_to_photo.data.edges import photo_edges
from sketch_to_photo.evaluation.shape_metrics import check_batch, grey_levels, painted_masks

# radial frequency bands of the power spectrum, in cycles per pixel (0.5 is Nyquist)
_SPECTRUM_BANDS = ((0.0625, 0.125), (0.125, 0.25), (0.25, 0.375), (0.375, 0.75))
# gradient magnitude bins (grey levels in [0, 1] per pixel), log-spaced
_GRADIENT_BINS = (0.01, 0.03, 0.08, 0.2)
_EPS = 1e-6

PHOTO_FEATURE_NAMES: tuple[str, ...] = (
    "painted_share",
    *(f"log_power_{low:g}_{high:g}" for low, high in _SPECTRUM_BANDS),
    *(f"gradient_share_below_{edge:g}" for edge in _GRADIENT_BINS),
    "gradient_share_above_0.2",
    "log_laplacian_energy",
    "log_laplacian_to_gradient",
    "gradient_coherence",
    "edge_density",
    "grey_mean",
    "log_grey_std",
    "saturation_mean",
    "saturation_std",
    "log_chroma_std",
)


def _flat(values: np.ndarray) -> np.ndarray:
    return values.reshape(len(values), -1)


def _masked_mean(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of ``values`` (N, S, S) over ``mask`` per image (0 where the mask is empty)."""
    weights = _flat(mask).astype(np.float32)
    count = weights.sum(axis=1)
    total = np.einsum("ij,ij->i", _flat(values).astype(np.float32), weights)
    return np.where(count > 0, total / np.maximum(count, 1.0), 0.0)


def _masked_std(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    mean = _masked_mean(values, mask)
    variance = _masked_mean(values * values, mask) - mean * mean
    return np.sqrt(np.maximum(variance, 0.0))


def _neighbours(values: np.ndarray) -> tuple[np.ndarray, ...]:
    """The (below, above, right, left) neighbour of every pixel of a batch (N, H, W), with the
    border replicated."""
    padded = np.pad(values, ((0, 0), (1, 1), (1, 1)), mode="edge")
    return padded[:, 2:, 1:-1], padded[:, :-2, 1:-1], padded[:, 1:-1, 2:], padded[:, 1:-1, :-2]


def _erode(mask: np.ndarray) -> np.ndarray:
    """3x3 erosion of a batch of masks (N, H, W): the silhouette's own border is not texture."""
    padded = np.pad(mask, ((0, 0), (1, 1), (1, 1)), constant_values=False)
    h, w = mask.shape[1:]
    out = mask.copy()
    for dy in range(3):
        for dx in range(3):
            out &= padded[:, dy : dy + h, dx : dx + w]
    return out


def _box3(values: np.ndarray) -> np.ndarray:
    """3x3 box sum of a batch (N, H, W), zero outside."""
    padded = np.pad(values, ((0, 0), (1, 1), (1, 1)))
    rows = padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]
    return rows[:, :, :-2] + rows[:, :, 1:-1] + rows[:, :, 2:]


def _band_log_power(grey: np.ndarray) -> np.ndarray:
    """log10 of the share of spectral power in each of ``_SPECTRUM_BANDS``: (N, bands).

    The darkness ``1 - grey`` is transformed, so the white background is zero and needs no
    window. Shares (not absolute powers) make it independent of contrast and object size,
    leaving the spectrum's shape: blur empties the top bands, texture fills them.
    """
    h, w = grey.shape[1:]
    spectrum = np.abs(np.fft.rfft2(1.0 - grey)) ** 2
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    radius = np.hypot(fy, fx)
    weight = np.where((fx == 0) | (fx == 0.5), 1.0, 2.0)  # rfft2 keeps half of the plane
    columns = [weight * (radius > 0)] + [
        weight * ((radius >= low) & (radius < high)) for low, high in _SPECTRUM_BANDS
    ]
    power = _flat(spectrum) @ np.stack([column.ravel() for column in columns], axis=1)
    return np.log10(power[:, 1:] / (power[:, :1] + _EPS) + _EPS)


def _features_chunk(images: np.ndarray) -> np.ndarray:
    n, h, w, _ = images.shape
    painted = painted_masks(images)
    interior = _erode(painted)
    flat_rgb = np.ascontiguousarray(images).reshape(n * h, w, 3)  # pointwise conversions only
    grey = grey_levels(images).astype(np.float32) / 255
    saturation = cv2.cvtColor(flat_rgb, cv2.COLOR_RGB2HSV)[..., 1].reshape(n, h, w)
    saturation = saturation.astype(np.float32) / 255  # (max - min) / max of the channels

    below, above, right, left = _neighbours(grey)
    gy, gx = (below - above) / 2, (right - left) / 2
    gradient_energy_map = gx * gx + gy * gy
    gradient = np.sqrt(gradient_energy_map)
    laplacian = below + above + right + left - 4 * grey
    # structure tensor over 3x3 windows: texture of real objects has oriented detail (edges,
    # stripes); noise does not, a blur keeps only the coherent outline
    jxx, jyy, jxy = _box3(gx * gx), _box3(gy * gy), _box3(gx * gy)
    anisotropy = np.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy)

    gradient_shares = []
    lower = 0.0
    for upper in (*_GRADIENT_BINS, np.inf):
        gradient_shares.append(_masked_mean((gradient >= lower) & (gradient < upper), interior))
        lower = upper
    laplacian_energy = _masked_mean(laplacian * laplacian, interior)
    gradient_energy = _masked_mean(gradient_energy_map, interior)
    coherence = _masked_mean(anisotropy, interior) / (_masked_mean(jxx + jyy, interior) + _EPS)

    channels = images.astype(np.float32) / 255
    red, green, blue = channels[..., 0], channels[..., 1], channels[..., 2]
    chroma_std = np.hypot(
        _masked_std(red - green, painted), _masked_std((red + green) / 2 - blue, painted)
    )
    return np.column_stack(
        [
            painted.mean(axis=(1, 2)),
            _band_log_power(grey),
            *gradient_shares,
            np.log10(laplacian_energy + _EPS),
            np.log10((laplacian_energy + _EPS) / (gradient_energy + _EPS)),
            coherence,
            _masked_mean(photo_edges(images), painted),
            _masked_mean(grey, painted),
            np.log10(_masked_std(grey, painted) + 1e-3),
            _masked_mean(saturation, painted),
            _masked_std(saturation, painted),
            np.log10(chroma_std + 1e-3),
        ]
    ).astype(np.float64)


def photo_features(images: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Per-image texture, sharpness and colour statistics: float64 (N, F), see
    :data:`PHOTO_FEATURE_NAMES`.

    Texture statistics are taken inside the painted region shrunk by one pixel, so an
    object's silhouette alone (a flat blob) has no texture; colour statistics over the whole
    painted region. Deterministic and vectorised (Canny aside); ``chunk`` images at a time
    keep the temporaries small.
    """
    check_batch(images, "images")
    if len(images) == 0:
        return np.zeros((0, len(PHOTO_FEATURE_NAMES)))
    return np.concatenate(
        [_features_chunk(images[start : start + chunk]) for start in range(0, len(images), chunk)]
    )


def _polynomial_kernel_sum(a: np.ndarray, b: np.ndarray, block: int = 2048) -> float:
    """Sum over all pairs of ``(a_i . b_j / d + 1) ** 3``, in blocks to bound memory."""
    dimension = a.shape[1]
    total = 0.0
    for start in range(0, len(a), block):
        total += float((((a[start : start + block] @ b.T) / dimension + 1.0) ** 3).sum())
    return total


def _polynomial_kernel_trace(a: np.ndarray) -> float:
    return float((((a * a).sum(axis=1) / a.shape[1] + 1.0) ** 3).sum())


def kernel_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Unbiased MMD^2 between two feature sets with the cubic polynomial kernel
    ``k(x, y) = (x . y / d + 1) ** 3``: the KID formula of Binkowski et al. (2018).

    Near 0 (it can be slightly negative) when both sets come from one distribution; computed
    on the full sets, not subsets, so it is deterministic.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, d) with one d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the kernel distance needs at least two feature vectors per set")
    return _mmd2(a, _within_mean(a), b, _within_mean(b))


def _within_mean(a: np.ndarray) -> float:
    """Mean kernel value over pairs i != j of one set."""
    n = len(a)
    return (_polynomial_kernel_sum(a, a) - _polynomial_kernel_trace(a)) / (n * (n - 1))


def _mmd2(a: np.ndarray, within_a: float, b: np.ndarray, within_b: float) -> float:
    return within_a + within_b - 2.0 * _polynomial_kernel_sum(a, b) / (len(a) * len(b))


@dataclass(frozen=True, eq=False)
class PhotoStatistics:
    """Photo-likeness of image sets: KID on :func:`photo_features` against reference photos.

    ``fit`` standardises each feature by the reference photos' median and spread (robust to a
    few odd photos) and caches the reference's own kernel mean, so ``kid`` on a new set costs
    one pass over the reference. Lower is better; a set of real photos scores near 0.
    Standardised values are clipped to +-``clip``: one broken image (an all-white output makes
    several log features extreme) then cannot outweigh the rest of its set.
    """

    centre: np.ndarray
    scale: np.ndarray
    reference: np.ndarray  # standardised reference features (M, F)
    reference_within: float
    image_shape: tuple[int, int]  # (S, S): the features depend on the image size
    clip: float = 10.0

    @classmethod
    def fit(cls, reference_images: np.ndarray, clip: float = 10.0) -> PhotoStatistics:
        """Fit to real photos (N, S, S, 3) uint8. Exact duplicate images are dropped (Sketchy
        pairs repeat a photo once per sketch), since repeats bias the within-set term."""
        check_batch(reference_images, "reference_images")
        unique = np.unique(reference_images.reshape(len(reference_images), -1), axis=0)
        if len(unique) < 2:
            raise ValueError("PhotoStatistics.fit needs at least two distinct reference photos")
        features = photo_features(unique.reshape((-1, *reference_images.shape[1:])))
        centre = np.median(features, axis=0)
        low, high = np.percentile(features, [25, 75], axis=0)
        # IQR / 1.349 is the standard deviation of a normal; the floor keeps a near-constant
        # feature from turning rounding noise into huge standardised values
        scale = np.maximum((high - low) / 1.349, np.maximum(features.std(axis=0), 1e-3) / 4)
        reference = np.clip((features - centre) / scale, -clip, clip)
        shape = (reference_images.shape[1], reference_images.shape[2])
        return cls(centre, scale, reference, _within_mean(reference), shape, clip)

    def standardise(self, images: np.ndarray) -> np.ndarray:
        """:func:`photo_features` of ``images`` in the reference's units (clipped): (N, F)."""
        check_batch(images, "images")
        if images.shape[1:3] != self.image_shape:
            raise ValueError(
                f"images are {images.shape[1]}x{images.shape[2]} px but the reference photos "
                f"were {self.image_shape[0]}x{self.image_shape[1]}: resize them first"
            )
        return np.clip((photo_features(images) - self.centre) / self.scale, -self.clip, self.clip)

    def kid(self, images: np.ndarray) -> float:
        """KID of the set ``images`` (N >= 2) against the reference photos; lower is better.

        Real photos score within a few units of 0 (-1.2 to 3.6 on Sketchy at 64 px); blurred,
        flat-colour or sketch-like sets score hundreds. Pass every output (a generator that
        repeats one image is penalised), but compare to a real-photo baseline without repeated
        photos: repeats raise the score.
        """
        if len(images) < 2:
            raise ValueError("kid needs at least two images")
        features = self.standardise(images)
        return _mmd2(features, _within_mean(features), self.reference, self.reference_within)

    def feature_gaps(self, images: np.ndarray) -> dict[str, float]:
        """Median standardised value of each feature over ``images``: which statistics make a
        set unlike photos (0 is the reference's median)."""
        return dict(
            zip(PHOTO_FEATURE_NAMES, np.median(self.standardise(images), axis=0), strict=True)
        )
