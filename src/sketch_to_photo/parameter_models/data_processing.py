"""The data_processing pipeline's parameters: ``index``, ``segmentation``, ``split``,
``shards``, ``edge_maps`` and ``reporting``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sketch_to_photo.parameter_models.field_types import (
    Categories,
    Fraction,
    GeneratorSize,
    Group,
    NonNegative,
    Positive,
    Probability,
)


class IndexParams(Group):
    categories: Categories
    augmentations: Annotated[
        list[Annotated[str, Field(pattern=r"^tx_\d{12}$")]], Field(min_length=1)
    ]
    invalid_lists: list[Literal["error", "ambiguous", "pose", "context"]]


class GrabCutParams(Group):
    method: Literal["full", "fast"]
    iterations: Positive
    work_size: Annotated[int, Field(ge=32, le=4096)]
    coarse_size: Annotated[int, Field(ge=16, le=4096)]
    coarse_iterations: Positive
    refine_band: Positive
    seed: int
    init: Literal["sketch_extent", "inset"]
    default_margin: Annotated[float, Field(ge=0.0, lt=0.5)]
    bbox_padding: Annotated[float, Field(ge=0.0, lt=0.5)]
    box_context: Annotated[float, Field(ge=0.0, lt=0.5)]
    min_area: Fraction
    max_area: Probability
    min_box_fill: Fraction
    min_box_iou: Fraction
    max_rect_fill: Probability
    max_frame_fill: Annotated[float, Field(gt=0.0, le=1.0)]
    min_mask_in_box: Probability

    @model_validator(mode="after")
    def _ordered(self) -> GrabCutParams:
        if self.min_area >= self.max_area:
            raise ValueError(f"min_area ({self.min_area}) must be below max_area ({self.max_area})")
        if self.max_frame_fill <= self.min_area:
            raise ValueError(
                f"max_frame_fill ({self.max_frame_fill}) must be above min_area ({self.min_area}): "
                "no cut-out could pass"
            )
        return self


class SegmentationParams(Group):
    workers: Literal["auto"] | Positive
    grabcut: GrabCutParams


class SplitParams(Group):
    seed: int
    validation_fraction: Fraction
    test_fraction: Fraction

    @model_validator(mode="after")
    def _some_left_to_train(self) -> SplitParams:
        if self.validation_fraction + self.test_fraction >= 1.0:
            raise ValueError(
                "validation_fraction + test_fraction must be below 1: no photo would be left "
                "to train on"
            )
        return self


class ShardsParams(Group):
    image_size: GeneratorSize
    max_pairs_per_shard: Positive
    segmentation_fallback: Literal["keep_photo", "drop"]


class EdgeMapParams(Group):
    method: Literal["canny", "xdog"]
    sigma: Annotated[float, Field(gt=0.0, lt=1.0)]
    min_piece: NonNegative
    stroke_width: Annotated[int, Field(ge=1, le=16)]
    loose_variants: Annotated[int, Field(ge=0, le=16)]
    wobble: Annotated[float, Field(ge=0.0, le=32.0)]
    piece_dropout: Annotated[float, Field(ge=0.0, lt=1.0)]


class ReportingParams(Group):
    grid_photos_per_category: Positive
    grid_max_failed: NonNegative
