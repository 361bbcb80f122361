"""Every parameter group of ``conf/`` as a typed model, checked before anything runs.

``kedro run`` merges ``conf/base``, the environment and ``--params`` into one dictionary; the
project's hook (:class:`sketch_to_photo.hooks.ParameterValidationHooks`) validates it with
:func:`validate_parameters` as soon as the context exists, so a wrong value or a misspelt key
stops the run before the first node with one message naming the key path, the value, what is
allowed and, for a typo, the closest valid key. The models hold the allowed values and ranges;
the YAML files hold the defaults (one source for each).

Nodes still receive the validated groups as plain dictionaries: kedro-mlflow flattens dictionary
parameters into the MLflow run (``training.epochs``, ...), which it cannot do for model objects.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

# Keys that are not parameter groups: runtime parameters read by the catalog (inference).
RUNTIME_KEYS = {"sketch_folder", "model"}


class ParameterError(ValueError):
    """One or more parameters are wrong; the message lists each with what is allowed."""


def _power_of_two(low: int, high: int):  # noqa: ANN202 - a validator factory
    def check(value: int) -> int:
        if value < low or value > high or value & (value - 1):
            allowed = ", ".join(str(2**k) for k in range(low.bit_length() - 1, high.bit_length()))
            raise ValueError(f"must be a power of two from {low} to {high} ({allowed})")
        return value

    return AfterValidator(check)


def _multiple_of(step: int, low: int, high: int):  # noqa: ANN202
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


# ---- data_acquisition -------------------------------------------------------------------


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


# ---- data_processing --------------------------------------------------------------------


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


# ---- training ----------------------------------------------------------------------------


class PerceptualParams(Group):
    weight: Annotated[float, Field(ge=0.0)] = 1.0
    layers: Annotated[
        list[Annotated[str, Field(pattern=r"^block[1-5]_conv[1-3]$")]], Field(min_length=1)
    ] = [  # noqa: E501
        "block1_conv2",
        "block2_conv2",
        "block3_conv3",
    ]
    vgg_weights: WeightsSource = "auto"


class EdgeMapMixParams(Group):
    """The share of real sketch pairs in the training stream rises linearly from
    ``real_share_start`` (first epoch) to ``real_share_end`` (last); the rest are edge maps."""

    enabled: bool
    real_share_start: Probability
    real_share_end: Probability
    real_l1_weight: Probability  # the L1 term's weight on a real sketch's pair (1 on an edge map's)


class TrainingParams(Group):
    image_size: GeneratorSize
    base_filters: Annotated[int, Field(ge=4, le=512)]
    normalization: Literal["batch", "instance"]
    class_aware: bool
    spectral_norm: bool
    dropout: Fraction
    batch_size: Positive
    strategy: Literal["auto", "mirrored", "multi_worker"]
    precision: Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]
    jit_compile: AutoOrBool
    epochs: Positive
    learning_rate: LearningRate
    lr_schedule: Literal["constant", "linear_decay"]
    beta_1: Fraction
    l1_weight: Annotated[float, Field(ge=0.0)]
    perceptual: PerceptualParams
    edge_maps: EdgeMapMixParams
    jitter: bool
    flip: bool
    shuffle_buffer: Positive
    seed: int
    sample_grid_every: NonNegative
    checkpoint_every: NonNegative
    sample_dir: Annotated[str, Field(min_length=1)]
    checkpoint_dir: Annotated[str, Field(min_length=1)]
    backup_dir: Annotated[str, Field(min_length=1)]


# ---- sketch_classifier ---------------------------------------------------------------------


class SketchClassifierParams(Group):
    backbone: Literal["auto", "vgg16", "small"]
    image_size: Annotated[int, _multiple_of(32, 32, 512)]
    batch_size: Positive
    epochs: Positive
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


# ---- evaluation ------------------------------------------------------------------------------


class FaithfulnessParams(Group):
    weights: WeightsSource
    image_size: Annotated[int, _multiple_of(16, 16, 512)]
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


# ---- inference ---------------------------------------------------------------------------------


class ContactSheetParams(Group):
    cell_px: Annotated[int, Field(ge=16, le=1024)]
    columns: Positive
    max_tiles: Positive


class InferenceParams(Group):
    category: str | None = None
    contact_sheet: ContactSheetParams


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
