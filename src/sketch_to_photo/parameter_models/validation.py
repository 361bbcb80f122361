"""The check of every parameter group: :func:`validate_parameters` and its messages, which name
the key path, the value, what is allowed and, for a typo, the closest valid key."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from sketch_to_photo.parameter_models.data_acquisition import AcquisitionParams
from sketch_to_photo.parameter_models.data_processing import (
    EdgeMapParams,
    IndexParams,
    ReportingParams,
    SegmentationParams,
    ShardsParams,
    SplitParams,
)
from sketch_to_photo.parameter_models.evaluation import EvaluationParams
from sketch_to_photo.parameter_models.field_types import Group
from sketch_to_photo.parameter_models.inference import InferenceParams
from sketch_to_photo.parameter_models.sketch_classifier import SketchClassifierParams
from sketch_to_photo.parameter_models.training import TrainingParams

# Keys that are not parameter groups: runtime parameters read by the catalog (inference).
RUNTIME_KEYS = {"sketch_folder", "model"}


class ParameterError(ValueError):
    """One or more parameters are wrong; the message lists each with what is allowed."""


PARAMETER_GROUPS: dict[str, type[Group]] = {
    "acquisition": AcquisitionParams,
    "index": IndexParams,
    "segmentation": SegmentationParams,
    "split": SplitParams,
    "shards": ShardsParams,
    "edge_maps": EdgeMapParams,
    "reporting": ReportingParams,
    "training": TrainingParams,
    "sketch_classifier": SketchClassifierParams,
    "evaluation": EvaluationParams,
    "inference": InferenceParams,
}


def _closest(word: str, candidates: list[str]) -> str:
    match = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""


def _fields_at(model: type[BaseModel], location: tuple[Any, ...]) -> list[str]:
    """The keys allowed beside the last element of ``location`` (a pydantic error location)."""
    current: Any = model
    for part in location[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                current = candidate
                break
            inner = getattr(candidate, "__args__", ())  # list[Model]
            if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
                current = inner[0]
                break
    return list(getattr(current, "model_fields", {}))


_UNION_TAGS = {"int", "float", "str", "bool", "none", "list", "dict"}


def _field_location(location: tuple[Any, ...]) -> tuple[Any, ...]:
    """The keys of a pydantic error location, without the tags it adds for union members
    (``literal['auto']``, ``constrained-int``)."""
    return tuple(
        part
        for part in location
        if isinstance(part, int) or not (set("[]-'(") & set(part) or part in _UNION_TAGS)
    )


def _describe(group: str, model: type[Group], error: dict[str, Any]) -> str:
    location = _field_location(tuple(error["loc"]))
    path = ".".join(str(part) for part in (group, *location))
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, location)
        return (
            f"{path}: unknown key{_closest(str(location[-1]), allowed)} "
            f"(the keys here are: {', '.join(allowed)})"
        )
    if kind == "missing":
        return f"{path}: missing; set it in conf/ or with --params"
    message = (
        error["msg"]
        .removeprefix("Value error, ")
        .replace("Input should be", "must be")
        .replace("List should have", "must have")
        .replace("String should", "must")
    )
    if not location or isinstance(value, dict):  # a rule across several keys of a group
        return f"{path}: {message}"
    return f"{path} = {value!r}: {message}"


def validate_parameters(
    params: dict[str, Any], source: str = "conf/ and --params"
) -> dict[str, Group]:
    """Validate every parameter group of ``params`` (the merged ``conf/`` and ``--params``;
    ``source`` says where they came from, for the message).

    Returns the typed groups; raises :class:`ParameterError` listing every problem.
    """
    problems: list[str] = []
    groups: dict[str, Group] = {}
    for key in sorted(params):
        if key in RUNTIME_KEYS:
            continue
        if key not in PARAMETER_GROUPS:
            problems.append(
                f"{key}: unknown parameter group{_closest(key, list(PARAMETER_GROUPS))} "
                f"(the groups are: {', '.join(PARAMETER_GROUPS)})"
            )
            continue
        model = PARAMETER_GROUPS[key]
        value = params[key]
        if not isinstance(value, dict):
            problems.append(f"{key} = {value!r}: must be a group of keys, not a single value")
            continue
        try:
            groups[key] = model.model_validate(value)
        except ValidationError as exc:
            # one line per key: a union (auto or a count) fails once per member
            described: dict[str, list[str]] = {}
            for error in exc.errors():
                line = _describe(key, model, error)
                head, _, message = line.partition(": ")
                described.setdefault(head, []).append(message)
            problems.extend(f"{head}: {' or '.join(m)}" for head, m in described.items())
    if problems:
        raise ParameterError(
            f"Invalid parameters ({source}); nothing was run:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    return groups
