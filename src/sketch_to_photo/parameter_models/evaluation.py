"""The evaluation pipeline's parameters: ``evaluation`` (with the faithfulness judge and the
champion rule)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sketch_to_photo.parameter_models.field_types import (
    Group,
    LearningRate,
    Positive,
    WeightsSource,
    multiple_of,
)
from sketch_to_photo.parameter_models.training import PerceptualParams


class FaithfulnessParams(Group):
    weights: WeightsSource
    image_size: Annotated[int, multiple_of(16, 16, 512)]
    epochs: Positive
    batch_size: Positive
    learning_rate: LearningRate
    seed: int
    ensemble: Annotated[int, Field(ge=1, le=10)]


Metric = Literal["test_faithfulness", "test_ssim", "test_psnr", "test_l1", "test_perceptual"]


class EvaluationParams(Group):
    batch_size: Positive
    grid_per_category: Positive
    fid_weights: WeightsSource
    seed: int
    perceptual: PerceptualParams
    faithfulness: FaithfulnessParams
    champion_metric: Metric
    champion_shape_metrics: Annotated[
        list[Literal["stroke_recall", "chamfer", "fill", "photo_kid"]], Field(max_length=4)
    ] = ["stroke_recall", "photo_kid"]
    champion_tie_break: Metric
