"""How GrabCut runs and when its result counts as failed: the settings, checked when made."""

from __future__ import annotations

from dataclasses import dataclass

METHODS = ("full", "fast")
INITS = ("sketch_extent", "inset")


@dataclass(frozen=True)
class SegmentationConfig:
    """How GrabCut runs and when its result counts as failed."""

    method: str = "full"  # "full" (reference) or "fast" (coarse GrabCut + boundary band)
    iterations: int = 5  # full: GrabCut rounds at work_size
    work_size: int = 256  # GrabCut runs on the photo resized to this (longest side)
    coarse_size: int = 128  # fast: longest side of the coarse GrabCut (at most work_size)
    coarse_iterations: int = 3  # fast: GrabCut rounds at coarse_size
    refine_band: int = 6  # fast: pixels (at work_size) either side of the coarse boundary
    seed: int = 0  # OpenCV's random state for GrabCut's k-means, reset for every photo
    init: str = "sketch_extent"  # without a stats.csv bbox: "sketch_extent" or "inset"
    default_margin: float = 0.04  # init rectangle inset (fraction of each side) without a box
    bbox_padding: float = 0.03  # boxes are grown by this fraction of the image size
    box_context: float = 0.15  # around a box, this much more may still turn out to be object
    min_area: float = 0.02  # without a box: a mask smaller than this fraction of the image fails
    max_area: float = 0.97  # without a box: a mask larger than this fraction fails
    min_box_fill: float = 0.03  # with a box: a mask smaller than this fraction of it fails
    min_box_iou: float = 0.1  # with a box: the mask's bounding box must overlap it this much
    max_rect_fill: float = 0.97  # a mask covering this much of GrabCut's rectangle: nothing cut
    max_frame_fill: float = 0.85  # a mask covering more of the whole photo: background kept too
    min_mask_in_box: float = 0.55  # with a box: less of the mask inside the padded box: elsewhere

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"segmentation method must be one of {METHODS}, got {self.method!r}")
        if self.init not in INITS:
            raise ValueError(f"segmentation init must be one of {INITS}, got {self.init!r}")
        if self.iterations < 1 or self.coarse_iterations < 1:
            raise ValueError(
                "segmentation iterations and coarse_iterations must be >= 1, "
                f"got {self.iterations} and {self.coarse_iterations}"
            )
        if self.work_size < 32:
            raise ValueError(f"segmentation work_size must be >= 32 pixels, got {self.work_size}")
        if self.coarse_size < 32:
            raise ValueError(
                f"segmentation coarse_size must be >= 32 pixels, got {self.coarse_size}"
            )
        if self.refine_band < 1:
            raise ValueError(f"segmentation refine_band must be >= 1 pixel, got {self.refine_band}")
        if not 0 <= self.min_area < self.max_area <= 1:
            raise ValueError(
                f"need 0 <= min_area < max_area <= 1, got {self.min_area} and {self.max_area}"
            )
        for name in (
            "box_context",
            "min_box_fill",
            "min_box_iou",
            "max_rect_fill",
            "max_frame_fill",
            "min_mask_in_box",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"segmentation {name} must be in [0, 1], got {getattr(self, name)}"
                )
