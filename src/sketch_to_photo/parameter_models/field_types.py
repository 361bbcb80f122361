"""The field types the parameter groups share (sizes, fractions, weights sources, MD5s) and
the :class:`Group` base: unknown keys are errors, values are not silently converted."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _power_of_two(low: int, high: int):  # noqa: ANN202 - a validator factory
    def check(value: int) -> int:
        if value < low or value > high or value & (value - 1):
            allowed = ", ".join(str(2**k) for k in range(low.bit_length() - 1, high.bit_length()))
            raise ValueError(f"must be a power of two from {low} to {high} ({allowed})")
        return value

    return AfterValidator(check)


def multiple_of(step: int, low: int, high: int):  # noqa: ANN202
    def check(value: int) -> int:
        if value < low or value > high or value % step:
            raise ValueError(f"must be a multiple of {step} from {low} to {high}")
        return value

    return AfterValidator(check)


def _weights_source(value: str) -> str:
    if not value.strip():
        raise ValueError("must be auto, imagenet, none or the path of a weights file")
    return value


def _md5(value: str) -> str:
    """An MD5 as the downloader takes it
    (:func:`sketch_to_photo.data.sketchy.download.download_file`): either case, surrounding spaces
    ignored; kept lower-case, as ``hashlib`` writes it."""
    digest = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", digest):
        raise ValueError("must be an MD5: 32 hexadecimal digits (0-9 and a-f, either case)")
    return digest


Positive = Annotated[int, Field(gt=0)]
NonNegative = Annotated[int, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0.0, lt=1.0)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
LearningRate = Annotated[float, Field(gt=0.0, lt=1.0)]
Categories = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
WeightsSource = Annotated[str, AfterValidator(_weights_source)]
AutoOrBool = Literal["auto"] | bool
GeneratorSize = Annotated[int, _power_of_two(32, 1024)]
MD5 = Annotated[str, AfterValidator(_md5)]


class Group(BaseModel):
    """A parameter group: unknown keys are errors, values are not silently converted."""

    model_config = ConfigDict(extra="forbid", strict=True)
