"""The sketch_classifier pipeline's parameters: ``sketch_classifier``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sketch_to_photo.parameter_models.field_types import (
    AutoOrBool,
    Fraction,
    Group,
    LearningRate,
    NonNegative,
    Positive,
    Probability,
    WeightsSource,
    multiple_of,
)


class SketchClassifierParams(Group):
    backbone: Literal["auto", "vgg16", "small"]
    image_size: Annotated[int, multiple_of(32, 32, 512)]
    batch_size: Positive
    epochs: Positive
    min_steps: NonNegative = 0
    learning_rate: LearningRate
    lr_schedule: Literal["constant", "cosine"]
    label_smoothing: Fraction
    widths: Annotated[list[Positive], Field(min_length=1, max_length=6)]
    dropout: Fraction
    augment: bool
    stroke_augment: Probability
    random_erasing: Probability
    edge_maps: bool = False
    vgg_weights: WeightsSource
    train_backbone: AutoOrBool
    seed: int
