"""The inference pipeline's parameters: ``inference`` (with the contact sheet)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from sketch_to_photo.parameter_models.field_types import Group, Positive


class ContactSheetParams(Group):
    cell_px: Annotated[int, Field(ge=16, le=1024)]
    columns: Positive
    max_tiles: Positive


class InferenceParams(Group):
    category: str | None = None
    contact_sheet: ContactSheetParams
