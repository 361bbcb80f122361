"""The training pipeline's parameters: ``training`` (with its perceptual loss and edge-map
mix)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sketch_to_photo.parameter_models.field_types import (
    AutoOrBool,
    Fraction,
    GeneratorSize,
    Group,
    LearningRate,
    NonNegative,
    Positive,
    Probability,
    WeightsSource,
)


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


class PhotoColourParams(Group):
    """SketchyGAN's photo jitter: each train photo's object gets a random brightness within
    ``+-brightness`` (on [-1, 1]) and contrast factor within ``1 +- contrast``."""

    brightness: Fraction = 0.0
    contrast: Fraction = 0.0


class TrainingParams(Group):
    image_size: GeneratorSize
    base_filters: Annotated[int, Field(ge=4, le=512)]
    normalization: Literal["batch", "instance"]
    class_aware: bool
    spectral_norm: bool
    # PatchGANs at 1, 1/2, 1/4... of the size (pix2pixHD's multi-scale discriminator)
    discriminator_scales: Annotated[int, Field(ge=1, le=3)] = 1
    # the U-Net, or pix2pix's ResNet generator (residual blocks at 1 / 2**resnet_downsamplings
    # of the size; resnet_* are read only with generator: resnet)
    generator: Literal["unet", "resnet"] = "unet"
    resnet_blocks: Annotated[int, Field(ge=1, le=12)] = 6
    resnet_downsamplings: Annotated[int, Field(ge=1, le=4)] = 2
    upsampling: Literal["transpose", "resize"] = "transpose"
    stroke_context: bool = False  # the strokes dilated to several radii as input channels
    # each real train pair's photo object and sketch strokes put on the same box
    pair_alignment: Literal["none", "photo_to_sketch", "sketch_to_photo"] = "none"
    photo_colour: PhotoColourParams = PhotoColourParams()
    dropout: Fraction
    batch_size: Positive
    strategy: Literal["auto", "mirrored", "multi_worker"]
    precision: Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]
    jit_compile: AutoOrBool
    epochs: Positive
    learning_rate: LearningRate
    lr_schedule: Literal["constant", "linear_decay"]
    # the discriminator's Adam rate (null: learning_rate, the generator's)
    discriminator_learning_rate: LearningRate | None = None
    beta_1: Fraction
    beta_2: Fraction = 0.999
    l1_weight: Annotated[float, Field(ge=0.0)]
    # pix2pixHD's discriminator feature matching (0: off)
    feature_matching_weight: Annotated[float, Field(ge=0.0)] = 0.0
    # momentum of the generator's exponential moving average, saved instead of its last weights
    # (0: off)
    generator_ema: Annotated[float, Field(ge=0.0, lt=1.0)] = 0.0
    # DiffAugment of the discriminator's inputs, real and generated pairs alike ([]: off)
    discriminator_augment: list[Literal["colour", "translation", "cutout"]] = []
    # R1 penalty on the discriminator's gradient at the real pairs' photos (0: off)
    r1_weight: Annotated[float, Field(ge=0.0)] = 0.0
    # weight of a photo-only category critic's cross-entropy on the generated photo in the
    # generator's loss (0: off; class-aware only)
    category_critic_weight: Annotated[float, Field(ge=0.0)] = 0.0
    perceptual: PerceptualParams
    edge_maps: EdgeMapMixParams
    jitter: bool
    flip: bool
    shuffle_buffer: Positive
    seed: int
    sample_grid_every: NonNegative
    checkpoint_every: NonNegative
    backup_every: Positive = 1
    sample_dir: Annotated[str, Field(min_length=1)]
    checkpoint_dir: Annotated[str, Field(min_length=1)]
    backup_dir: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _each_scale_fits_a_patch(self) -> TrainingParams:
        smallest = 32 * 2 ** (self.discriminator_scales - 1)  # the PatchGAN needs 24 px
        if self.image_size < smallest:
            raise ValueError(
                f"discriminator_scales {self.discriminator_scales} needs image_size >= "
                f"{smallest} (each scale halves the pair; the PatchGAN needs 24 px): lower "
                f"training.discriminator_scales or raise training.image_size"
            )
        return self

    @model_validator(mode="after")
    def _critic_needs_categories(self) -> TrainingParams:
        if self.category_critic_weight > 0 and not self.class_aware:
            raise ValueError(
                "category_critic_weight > 0 asks the generator for a photo of the category it "
                "was given, so it needs class_aware: true (or set category_critic_weight: 0)"
            )
        return self
