"""The data_acquisition pipeline's parameters: ``acquisition`` (synthetic, Sketchy or local)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sketch_to_photo.parameter_models.field_types import (
    MD5,
    Categories,
    Group,
    NonNegative,
    Positive,
)


class SyntheticParams(Group):
    seed: int
    categories: Categories
    photos_per_category: Positive
    sketches_per_photo: Annotated[list[Positive], Field(min_length=2, max_length=2)]
    image_size: Annotated[int, Field(ge=32, le=1024)]
    invalid_error_per_category: NonNegative
    invalid_ambiguous_per_category: NonNegative
    invalid_pose_per_category: NonNegative
    invalid_context_per_category: NonNegative
    testset_per_category: NonNegative

    @model_validator(mode="after")
    def _sketch_range(self) -> SyntheticParams:
        low, high = self.sketches_per_photo
        if low > high:
            raise ValueError(
                f"sketches_per_photo is [min, max]: {low} is more than {high}; write [{high}, {low}]"
            )
        if self.testset_per_category >= self.photos_per_category:
            raise ValueError(
                f"testset_per_category ({self.testset_per_category}) must be less than "
                f"photos_per_category ({self.photos_per_category}): some photos must train"
            )
        return self


class ArchiveParams(Group):
    name: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^(https?|file)://")]
    md5: MD5


class SketchyParams(Group):
    timeout_s: Annotated[float, Field(gt=0)]
    retries: Annotated[int, Field(ge=0)] = 1
    archives: Annotated[list[ArchiveParams], Field(min_length=1)]


class LocalParams(Group):
    path: str | None = None


class AcquisitionParams(Group):
    source: Literal["synthetic", "sketchy", "local"]
    raw_dir: Annotated[str, Field(min_length=1)]
    synthetic: SyntheticParams
    sketchy: SketchyParams
    local: LocalParams

    @model_validator(mode="after")
    def _local_needs_a_path(self) -> AcquisitionParams:
        if self.source == "local" and not self.local.path:
            raise ValueError(
                "source is local but acquisition.local.path is not set: give the extracted Sketchy "
                "folder, "
                'a .7z archive or a folder of them, e.g. --params "acquisition.local.path=/data/sketchy"'
            )
        return self
