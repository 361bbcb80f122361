"""pix2pix: a U-Net generator and a 70x70 PatchGAN discriminator (Isola et al., 2017), and
the ResNet generator of pix2pix's and CycleGAN's reference code.

The architecture follows the TensorFlow pix2pix tutorial (54.4M + 2.8M parameters at 256 px
with 64 base filters), with two choices of the paper's reference code: the innermost (1x1)
encoder block has no normalisation, since normalising a single value per channel (instance
norm always, batch norm at batch size 1) replaces the bottleneck with a constant; and the
discriminator's loss is halved, which slows D relative to G.

Images are float32 RGB in [-1, 1], channels last. The generator's tanh output and the
discriminator's logits stay float32 so that a mixed-precision policy can be set globally.

Batch normalisation at inference: the generator is trained with ``training=True`` (batch
statistics, moving averages updated) and saved and used like any Keras model, in inference
mode (``training=False``): moving statistics, no dropout. The paper and the TensorFlow tutorial
instead run the generator in training mode at test time (per-image statistics, dropout as
noise); that depends on the batch, so a photo would change with what else is in the batch.
With ``normalization="instance"`` the two modes agree apart from dropout. Batch norm uses
momentum 0.9 (PyTorch's 0.1, as in the paper's code) rather than Keras' 0.99, so that the moving
statistics keep up with weights that change all through GAN training.

:class:`Pix2Pix` trains both networks with ``fit()``: one discriminator and one generator
update per batch, from the same generator pass, each with its own optimizer.

Class-aware (``num_classes > 0``, as in SketchyGAN): the category, a one-hot vector, is a second
input of both networks. It is broadcast over the image and concatenated to the sketch at the
input, and concatenated again at the generator's 1x1 bottleneck, so one model can draw an ant
or an alarm clock from an ambiguous scribble on request.

Category critic (optional, class-aware only): a small classifier of the photo alone, trained on
the real photos' categories, whose cross-entropy on the generated photo joins the generator's
loss (AC-GAN's auxiliary classifier, Odena et al. 2017, without its training on generated
photos, which carry the category the generator was given and are told apart by that alone).
The conditional discriminator judges each patch of a pair; the critic asks whether the whole
photo shows the category.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import tensorflow as tf
from keras import layers

from sketch_to_photo.models.augment import augment_pairs

if TYPE_CHECKING:
    from sketch_to_photo.models.perceptual import PerceptualLoss

NORMALIZATIONS = ("batch", "instance")
_DROPOUT_BLOCKS = 3  # decoder blocks with dropout, counted from the bottleneck


def _initializer() -> keras.initializers.Initializer:
    # One instance per layer: Keras warns when an unseeded initializer is reused.
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _check_normalization(normalization: str) -> None:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")


def _norm(normalization: str, name: str) -> layers.Layer:
    if normalization == "batch":
        return layers.BatchNormalization(momentum=0.9, name=name)
    return layers.GroupNormalization(groups=-1, name=name)  # one group per channel: instance norm


def _spectral(conv: layers.Conv2D, spectral_norm: bool) -> layers.Layer:
    """``conv`` with its kernel divided by its largest singular value (Miyato et al. 2018),
    estimated by one power iteration per training step, or ``conv`` itself."""
    if not spectral_norm:
        return conv
    # The wrapper's own policy decides its output dtype: the float32 logits must stay float32.
    return layers.SpectralNormalization(conv, dtype=conv.dtype_policy, name=f"{conv.name}_sn")


def _downsample(
    x: keras.KerasTensor,
    filters: int,
    normalization: str | None,
    name: str,
    spectral_norm: bool = False,
) -> keras.KerasTensor:
    """pix2pix's encoder block: Conv 4x4 stride 2, optional norm (then no bias), LeakyReLU 0.2."""
    conv = layers.Conv2D(
        filters,
        4,
        strides=2,
        padding="same",
        use_bias=normalization is None,
        kernel_initializer=_initializer(),
        name=f"{name}_conv",
    )
    x = _spectral(conv, spectral_norm)(x)
    if normalization is not None:
        x = _norm(normalization, f"{name}_norm")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_lrelu")(x)


def _category_input(num_classes: int) -> keras.KerasTensor:
    return keras.Input((num_classes,), name="category")


def _broadcast(category: keras.KerasTensor, size: int, name: str) -> keras.KerasTensor:
    """A one-hot ``(C,)`` as a ``(size, size, C)`` map, to concatenate with image features."""
    x = layers.Reshape((1, 1, category.shape[-1]), name=f"{name}_reshape")(category)
    return layers.UpSampling2D(size, name=f"{name}_broadcast")(x) if size > 1 else x


UPSAMPLING = ("transpose", "resize")


def _upsample(
    x: keras.KerasTensor, filters: int, upsampling: str, name: str, *, use_bias: bool
) -> keras.KerasTensor:
    """Double the size: a 4x4 stride-2 transposed convolution, or a nearest-neighbour
    resize and a 3x3 convolution (the layer names keep ``{name}_conv`` either way)."""
    if upsampling == "resize":
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
        return layers.Conv2D(
            filters, 3, padding="same", use_bias=use_bias,
            kernel_initializer=_initializer(), name=f"{name}_conv",
        )(x)  # fmt: skip
    return layers.Conv2DTranspose(
        filters, 4, strides=2, padding="same", use_bias=use_bias,
        kernel_initializer=_initializer(), name=f"{name}_conv",
    )(x)  # fmt: skip


STROKE_CONTEXT_RADII = (1, 3, 7, 15)  # pixels at 128 px, scaled with the image size


def _stroke_context(sketch: keras.KerasTensor, image_size: int) -> keras.KerasTensor:
    """The sketch's ink, dilated to several radii: for each pixel, whether a stroke is within
    1, 3, 7 or 15 pixels (at 128 px), a coarse distance transform that tells the first
    convolutions how near the strokes are. Built from stock layers (ink: black strokes on
    white; max pooling of the ink dilates it; a square window's max is two 1-D passes), so the
    model saves and exports like the plain one."""
    ink = layers.Conv2D(
        1, 1, use_bias=False, trainable=False, name="stroke_ink",
        kernel_initializer=keras.initializers.Constant(-1.0 / 3.0),
    )(sketch)  # fmt: skip  # minus the mean over RGB: white paper -1, a black stroke 1
    scale = image_size / 128
    dilated, reached = [], 0
    for radius in STROKE_CONTEXT_RADII:
        step = max(1, round(radius * scale)) - reached
        if step > 0:
            for axis, pool in (("rows", (2 * step + 1, 1)), ("columns", (1, 2 * step + 1))):
                ink = layers.MaxPooling2D(
                    pool, strides=1, padding="same", name=f"stroke_within_{radius}_{axis}"
                )(ink)
            reached += step
        dilated.append(ink)
    return layers.Concatenate(name="stroke_context")([sketch, *dilated])


def _generator_inputs(
    image_size: int, num_classes: int, stroke_context: bool
) -> tuple[Any, keras.KerasTensor, keras.KerasTensor | None]:
    """Both generators' inputs (the sketch, and the category when ``num_classes > 0``), and
    what their first layer reads: the sketch, its stroke context and the category broadcast
    over the image, stacked."""
    sketch = keras.Input((image_size, image_size, 3), name="sketch")
    x, inputs, category = sketch, sketch, None
    if stroke_context:
        x = _stroke_context(sketch, image_size)
    if num_classes:
        category = _category_input(num_classes)
        inputs = [sketch, category]
        x = layers.Concatenate(name="sketch_category")(
            [x, _broadcast(category, image_size, "input_category")]
        )
    return inputs, x, category


def build_generator(
    image_size: int = 256,
    base_filters: int = 64,
    max_filters: int = 512,
    dropout: float = 0.5,
    normalization: str = "batch",
    num_classes: int = 0,
    name: str = "generator",
    upsampling: str = "transpose",
    stroke_context: bool = False,
) -> keras.Model:
    """U-Net generator: sketch ``(S, S, 3)`` -> photo ``(S, S, 3)``, both in [-1, 1].

    ``log2(S)`` encoder blocks halve the size down to 1x1; block ``i`` has
    ``min(base_filters * 2**i, max_filters * base_filters // 64)`` filters. The decoder mirrors
    them with skip connections; its first three blocks use dropout. ``num_classes > 0`` makes it
    class-aware: inputs ``[sketch, category one-hot (C,)]``. ``upsampling``: ``transpose``
    (the paper's 4x4 stride-2 transposed convolutions) or ``resize`` (nearest-neighbour
    doubling, then a 3x3 convolution: no checkerboard from uneven kernel overlap).
    ``stroke_context`` adds the sketch's strokes dilated to several radii as input channels.
    """
    if upsampling not in UPSAMPLING:
        raise ValueError(f"upsampling must be one of {UPSAMPLING}, got {upsampling!r}")
    if image_size < 32 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of 2 >= 32, got {image_size}")
    if base_filters < 1:
        raise ValueError(f"base_filters must be positive, got {base_filters}")
    _check_normalization(normalization)
    n_blocks = image_size.bit_length() - 1
    cap = max_filters * base_filters // 64
    filters = [min(base_filters * 2**i, cap) for i in range(n_blocks)]

    if num_classes < 0:
        raise ValueError(f"num_classes must be 0 (unconditional) or more, got {num_classes}")
    inputs, x, category = _generator_inputs(image_size, num_classes, stroke_context)
    skips = []
    for i, n_filters in enumerate(filters, start=1):
        x = _downsample(x, n_filters, normalization if 1 < i < n_blocks else None, f"down{i}")
        skips.append(x)
    if category is not None:  # the bottleneck is 1x1: the category joins it directly
        x = layers.Concatenate(name="bottleneck_category")(
            [x, _broadcast(category, 1, "bottleneck_category")]
        )

    # Up from the bottleneck, concatenating the encoder output of the same size.
    decoder = zip(filters[-2::-1], skips[-2::-1], strict=True)
    for i, (n_filters, skip) in enumerate(decoder, start=1):
        x = _upsample(x, n_filters, upsampling, f"up{i}", use_bias=False)
        x = _norm(normalization, f"up{i}_norm")(x)
        if i <= _DROPOUT_BLOCKS and dropout > 0:
            x = layers.Dropout(dropout, name=f"up{i}_dropout")(x)
        x = layers.ReLU(name=f"up{i}_relu")(x)
        x = layers.Concatenate(name=f"up{i}_skip")([x, skip])

    x = _upsample(x, 3, upsampling, "output", use_bias=True)
    outputs = layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def _resnet_block(x: keras.KerasTensor, normalization: str, name: str) -> keras.KerasTensor:
    """Two 3x3 convolutions with a shortcut round them (He et al. 2016), as in Johnson et al.'s
    and CycleGAN's generator: conv, norm, ReLU, conv, norm, then add the input."""
    shortcut = x
    for j in (1, 2):
        x = layers.Conv2D(
            x.shape[-1], 3, padding="same", use_bias=False,
            kernel_initializer=_initializer(), name=f"{name}_conv{j}",
        )(x)  # fmt: skip
        x = _norm(normalization, f"{name}_norm{j}")(x)
        if j == 1:
            x = layers.ReLU(name=f"{name}_relu")(x)
    return layers.Add(name=f"{name}_add")([shortcut, x])


def build_resnet_generator(
    image_size: int = 256,
    base_filters: int = 64,
    blocks: int = 6,
    downsamplings: int = 2,
    normalization: str = "instance",
    num_classes: int = 0,
    name: str = "generator",
    upsampling: str = "transpose",
    stroke_context: bool = False,
) -> keras.Model:
    """The ResNet generator of pix2pix's and CycleGAN's reference code (Johnson et al. 2016):
    sketch ``(S, S, 3)`` -> photo ``(S, S, 3)``, both in [-1, 1], with the U-Net's inputs.

    A 7x7 convolution at full size, ``downsamplings`` 3x3 stride-2 convolutions that double the
    filters, ``blocks`` residual blocks at ``S / 2**downsamplings``, the mirror image back up,
    and a 7x7 convolution to RGB. Unlike the U-Net nothing skips the residual blocks: every
    output pixel is drawn from features that saw a wide neighbourhood of the sketch. Borders
    are zero-padded ("same"), not reflected as in the reference code, so that only stock
    layers are used (the model saves and exports like the U-Net). Class-aware
    (``num_classes > 0``): the category joins the input, as in the U-Net, and again before the
    residual blocks, where a 1x1 convolution folds it into their width.
    """
    if upsampling not in UPSAMPLING:
        raise ValueError(f"upsampling must be one of {UPSAMPLING}, got {upsampling!r}")
    if blocks < 1 or downsamplings < 1:
        raise ValueError(
            f"blocks and downsamplings must be 1 or more, got {blocks} and {downsamplings}"
        )
    if image_size % 2**downsamplings:
        raise ValueError(
            f"image_size {image_size} cannot be halved {downsamplings} times: lower "
            "downsamplings or pick a size divisible by 2**downsamplings"
        )
    if base_filters < 1 or num_classes < 0:
        raise ValueError(
            f"base_filters must be positive and num_classes 0 or more, got {base_filters} "
            f"and {num_classes}"
        )
    _check_normalization(normalization)

    def conv_norm_relu(
        x: keras.KerasTensor, filters: int, kernel: int, strides: int, block: str
    ) -> keras.KerasTensor:
        x = layers.Conv2D(
            filters, kernel, strides=strides, padding="same", use_bias=False,
            kernel_initializer=_initializer(), name=f"{block}_conv",
        )(x)  # fmt: skip
        x = _norm(normalization, f"{block}_norm")(x)
        return layers.ReLU(name=f"{block}_relu")(x)

    inputs, x, category = _generator_inputs(image_size, num_classes, stroke_context)
    x = conv_norm_relu(x, base_filters, 7, 1, "stem")
    for i in range(1, downsamplings + 1):
        x = conv_norm_relu(x, base_filters * 2**i, 3, 2, f"down{i}")
    width = base_filters * 2**downsamplings
    if category is not None:
        x = layers.Concatenate(name="blocks_category")(
            [x, _broadcast(category, image_size // 2**downsamplings, "blocks_category")]
        )
        x = conv_norm_relu(x, width, 1, 1, "blocks_in")
    for i in range(1, blocks + 1):
        x = _resnet_block(x, normalization, f"res{i}")
    for i in range(1, downsamplings + 1):
        x = _upsample(x, base_filters * 2 ** (downsamplings - i), upsampling, f"up{i}",
                      use_bias=False)  # fmt: skip
        x = _norm(normalization, f"up{i}_norm")(x)
        x = layers.ReLU(name=f"up{i}_relu")(x)
    x = layers.Conv2D(3, 7, padding="same", kernel_initializer=_initializer(), name="output_conv")(
        x
    )
    outputs = layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)


def _patch_logits(
    pair: keras.KerasTensor,
    base_filters: int,
    normalization: str,
    spectral_norm: bool,
    prefix: str = "",
) -> keras.KerasTensor:
    """The 70x70 PatchGAN's layers on a stacked pair: one logit per patch."""
    x = pair
    for i, multiple in enumerate((1, 2, 4), start=1):
        norm = normalization if i > 1 else None
        x = _downsample(x, base_filters * multiple, norm, f"{prefix}down{i}", spectral_norm)
    x = layers.ZeroPadding2D(name=f"{prefix}pad1")(x)
    conv4 = layers.Conv2D(
        base_filters * 8,
        4,
        strides=1,
        use_bias=False,
        kernel_initializer=_initializer(),
        name=f"{prefix}conv4",
    )
    x = _spectral(conv4, spectral_norm)(x)
    x = _norm(normalization, f"{prefix}conv4_norm")(x)
    x = layers.LeakyReLU(0.2, name=f"{prefix}conv4_lrelu")(x)
    x = layers.ZeroPadding2D(name=f"{prefix}pad2")(x)
    return _spectral(
        layers.Conv2D(
            1, 4, strides=1, kernel_initializer=_initializer(), dtype="float32",
            name=f"{prefix}logits",
        ),
        spectral_norm,
    )(x)  # fmt: skip


def _patch_count(image_size: int) -> int:
    """Logits per side of the PatchGAN: three stride-2 convs ("same"), then two 4x4 valid
    convs after 1-pixel padding."""
    return -(-image_size // 8) - 2


def build_discriminator(
    image_size: int = 256,
    base_filters: int = 64,
    normalization: str = "batch",
    num_classes: int = 0,
    spectral_norm: bool = False,
    name: str = "discriminator",
    scales: int = 1,
) -> keras.Model:
    """70x70 PatchGAN: ``[sketch, photo]`` -> one logit per patch, ``(S/8 - 2)^2`` of them.

    Class-aware (``num_classes > 0``): ``[sketch, photo, category one-hot]``. ``spectral_norm``
    wraps every convolution in spectral normalisation, which bounds how fast the critic can
    sharpen (a remedy for a discriminator that wins early). ``scales > 1`` (pix2pixHD's
    multi-scale discriminator) adds a PatchGAN of its own for the pair halved (then quartered,
    ...) in size, whose patches cover twice (four times, ...) as much of the image: the output
    is then a list of logit maps, finest first.
    """
    _check_normalization(normalization)
    if scales < 1:
        raise ValueError(f"scales must be 1 or more, got {scales}")
    if _patch_count(image_size // 2 ** (scales - 1)) < 1:
        raise ValueError(
            f"image_size {image_size} is too small for the PatchGAN at {scales} scale(s) "
            f"(min {24 * 2 ** (scales - 1)})"
        )

    sketch = keras.Input((image_size, image_size, 3), name="sketch")
    photo = keras.Input((image_size, image_size, 3), name="photo")
    inputs = [sketch, photo]
    stacked = [sketch, photo]
    if num_classes:
        category = _category_input(num_classes)
        inputs.append(category)
        stacked.append(_broadcast(category, image_size, "category"))
    pair = layers.Concatenate(name="pair")(stacked)
    logits = [_patch_logits(pair, base_filters, normalization, spectral_norm)]
    for scale in range(1, scales):
        pair = layers.AveragePooling2D(2, name=f"scale{scale}_pool")(pair)
        prefix = f"scale{scale}_"
        logits.append(_patch_logits(pair, base_filters, normalization, spectral_norm, prefix))
    return keras.Model(inputs, logits if scales > 1 else logits[0], name=name)


def build_category_critic(
    image_size: int,
    num_classes: int,
    base_filters: int = 64,
    normalization: str = "instance",
    name: str = "category_critic",
) -> keras.Model:
    """Photo ``(S, S, 3)`` -> category logits ``(num_classes,)`` (float32): four of the
    PatchGAN's downsampling blocks, then the average over the image, so the whole photo is
    judged. It sees the photo only: neither the sketch nor the category."""
    _check_normalization(normalization)
    if num_classes < 2:
        raise ValueError(
            f"a category critic needs 2 or more categories, got {num_classes}: train on more "
            "categories or set training.category_critic_weight: 0"
        )
    if image_size < 16:
        raise ValueError(f"image_size must be >= 16 for the category critic, got {image_size}")
    photo = keras.Input((image_size, image_size, 3), name="photo")
    x = photo
    for i, multiple in enumerate((1, 2, 4, 8), start=1):
        norm = normalization if i > 1 else None
        x = _downsample(x, base_filters * multiple, norm, f"critic_down{i}")
    x = layers.GlobalAveragePooling2D(name="critic_pool")(x)
    logits = layers.Dense(
        num_classes, kernel_initializer=_initializer(), dtype="float32", name="critic_logits"
    )(x)
    return keras.Model(photo, logits, name=name)


def _hidden_activations(discriminator: keras.Model) -> list[keras.KerasTensor]:
    """The outputs of the PatchGAN's LeakyReLUs (after each block), input side first."""
    return [layer.output for layer in discriminator.layers if isinstance(layer, layers.LeakyReLU)]


class _Untracked:
    """Calls a model that Keras must not track as a sublayer of its holder."""

    def __init__(self, model: keras.Model) -> None:
        self.model = model

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)


def _pair_feature_distance(
    real_features: list[tf.Tensor], fake_features: list[tf.Tensor]
) -> tf.Tensor:
    """Per pair, the mean over blocks of the L1 distance between their activations; the real
    pair's are constants (targets for the generator)."""
    distances = [
        tf.reduce_mean(
            tf.abs(tf.cast(tf.stop_gradient(real), "float32") - tf.cast(fake, "float32")),
            axis=[1, 2, 3],
        )
        for real, fake in zip(real_features, fake_features, strict=True)
    ]
    return tf.add_n(distances) / len(distances)


def _weighted_mean(per_pair: tf.Tensor, pair_weights: list[tf.Tensor]) -> tf.Tensor:
    """The batch mean of a per-pair loss, each pair weighted when weights were given."""
    return tf.reduce_mean(pair_weights[0] * per_pair) if pair_weights else tf.reduce_mean(per_pair)


def _bce(label: float, logits: list[tf.Tensor]) -> tf.Tensor:
    """Binary cross-entropy from logits against a constant label, mean over patches and batch,
    then over the discriminator's scales (each counts the same, whatever its patch count)."""
    losses = [
        tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(x), label), logits=x)
        )
        for x in logits
    ]
    return tf.add_n(losses) / len(losses)


def _category_cross_entropy(categories: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    """Softmax cross-entropy of the category logits against the one-hot categories, batch
    mean."""
    return tf.reduce_mean(
        tf.nn.softmax_cross_entropy_with_logits(
            labels=tf.cast(categories, "float32"), logits=tf.cast(logits, "float32")
        )
    )


def _per_replica(loss: tf.Tensor) -> tf.Tensor:
    """Scale a per-replica mean so that the all-reduced gradients are those of the global mean.

    Keras' TensorFlow optimizers sum gradients over replicas in ``apply_gradients``. (Keras
    ``Loss`` objects do this scaling themselves, hence plain TensorFlow reductions here.)
    """
    return loss / tf.distribute.get_strategy().num_replicas_in_sync


def _step(
    optimizer: keras.optimizers.Optimizer,
    tape: tf.GradientTape,
    scaled_loss: tf.Tensor,
    network: keras.Model,
) -> None:
    """One optimizer update of ``network``'s trainable variables from a taped loss."""
    variables = network.trainable_variables
    gradients = tape.gradient(scaled_loss, variables)
    optimizer.apply_gradients(zip(gradients, variables, strict=True))


class Pix2Pix(keras.Model):
    """The pix2pix GAN: ``fit()`` on ``(sketches, photos)`` batches trains both networks.

    Generator loss: ``gan + l1_weight * L1 + perceptual_weight * perceptual +
    feature_matching_weight * feature matching``; the perceptual term is computed only when a
    :class:`PerceptualLoss` is given and its weight is positive (evaluation reports it whenever
    one is given). Feature matching (pix2pixHD) is the L1 distance between the discriminator's
    hidden activations on the real pair and on the generated one, mean over its blocks: a
    perceptual term that needs no ImageNet weights. Discriminator loss: ``gan / 2 + r1_weight /
    2 * R1``; R1 (Mescheder et al. 2018) is the squared norm of the gradient of the
    discriminator's summed patch logits on a real pair with respect to its photo, which keeps
    the discriminator smooth around the real photos. With a ``category_critic`` and a positive
    ``category_weight`` (class-aware only), the generator's loss adds ``category_weight`` times
    the critic's cross-entropy on the generated photos, and the critic, with its own optimizer,
    learns the real photos' categories. Calling the model runs the generator.
    For ``mixed_float16`` wrap each optimizer in ``keras.optimizers.LossScaleOptimizer``
    (:func:`sketch_to_photo.models.precision.wrap_optimizer`); ``mixed_bfloat16`` needs none.

    Every loss is a mean over its batch (and pixels or patches); the metrics report these.
    Under ``tf.distribute`` each replica's gradients are of its mean divided by the number of
    replicas, which sum to those of the mean over the global batch.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        perceptual: PerceptualLoss | None = None,
        category_critic: keras.Model | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.category_critic = category_critic
        # A plain object, so VGG's frozen weights stay out of this model's weights and backups.
        self.perceptual = perceptual
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.g_gan_tracker = keras.metrics.Mean(name="g_gan")
        self.g_l1_tracker = keras.metrics.Mean(name="g_l1")
        self.g_perceptual_tracker = keras.metrics.Mean(name="g_perceptual")
        self.g_feature_matching_tracker = keras.metrics.Mean(name="g_feature_matching")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.d_r1_tracker = keras.metrics.Mean(name="d_r1")
        self.g_category_tracker = keras.metrics.Mean(name="g_category")
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.perceptual_tracker = keras.metrics.Mean(name="perceptual")
        self.l1_weight = 100.0
        self.perceptual_weight = 0.0
        self.feature_matching_weight = 0.0
        self.r1_weight = 0.0
        self.category_weight = 0.0
        self.critic_optimizer: keras.optimizers.Optimizer | None = None
        self.discriminator_augment: tuple[str, ...] = ()
        # The same layers as the discriminator, also returning its blocks' activations; held
        # in a plain object so that their variables are tracked once, through the discriminator.
        self.discriminator_features = _Untracked(
            keras.Model(
                discriminator.inputs,
                [*_hidden_activations(discriminator), *discriminator.outputs],
                name=f"{discriminator.name}_features",
            )
        )
        self.discriminator_scales = len(discriminator.outputs)
        self.built = True  # both networks are built functional models

    def compile(
        self,
        g_optimizer: keras.optimizers.Optimizer,
        d_optimizer: keras.optimizers.Optimizer,
        l1_weight: float = 100.0,
        perceptual_weight: float = 0.0,
        feature_matching_weight: float = 0.0,
        discriminator_augment: tuple[str, ...] = (),
        r1_weight: float = 0.0,
        category_weight: float = 0.0,
        critic_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        """Set the optimizers, the loss weights and the augmentations of the
        discriminator's inputs (:mod:`sketch_to_photo.models.augment`; none by default);
        ``kwargs`` go to ``Model.compile``. A positive ``category_weight`` needs the model's
        ``category_critic``, a ``critic_optimizer`` and a class-aware generator."""
        if category_weight < 0:
            raise ValueError(f"category_weight must be >= 0, got {category_weight}")
        if category_weight > 0 and (
            self.category_critic is None or critic_optimizer is None or not self.class_aware
        ):
            raise ValueError(
                "category_weight > 0 needs a class-aware generator, a category_critic and a "
                "critic_optimizer"
            )
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        self.l1_weight = float(l1_weight)
        self.perceptual_weight = float(perceptual_weight)
        self.feature_matching_weight = float(feature_matching_weight)
        self.discriminator_augment = tuple(discriminator_augment)
        self.r1_weight = float(r1_weight)
        self.category_weight = float(category_weight)
        self.critic_optimizer = critic_optimizer
        if critic_optimizer is not None and not critic_optimizer.built and self.category_critic:
            critic_optimizer.build(self.category_critic.trainable_variables)
        # Built now so that BackupAndRestore can load their state before the first step.
        if not g_optimizer.built:
            g_optimizer.build(self.generator.trainable_variables)
        if not d_optimizer.built:
            d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        # Listed here so that fit() and evaluate() reset them.
        return [
            self.g_loss_tracker,
            self.g_gan_tracker,
            self.g_l1_tracker,
            self.g_perceptual_tracker,
            self.g_feature_matching_tracker,
            self.d_loss_tracker,
            self.d_r1_tracker,
            self.g_category_tracker,
            self.critic_loss_tracker,
            self.l1_tracker,
            self.perceptual_tracker,
        ]

    def call(self, inputs: Any, training: bool = False) -> tf.Tensor:
        return self.generator(inputs, training=training)

    @property
    def class_aware(self) -> bool:
        return len(self.generator.inputs) == 2

    def _split(self, inputs: Any) -> tuple[tf.Tensor, list[tf.Tensor]]:
        """The sketches, and what the networks take besides the photo: [] or [category]."""
        if self.class_aware:
            sketches, categories = inputs
            return sketches, [categories]
        return inputs, []

    def _uses_perceptual(self) -> bool:
        return self.perceptual is not None and self.perceptual_weight > 0

    def _category_losses(
        self, photos: tf.Tensor, fakes: tf.Tensor, condition: list[tf.Tensor]
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """The critic's cross-entropy on the real photos (its own loss) and on the generated
        ones (the generator's term), both 0 without a critic: the critic learns the real
        photos' categories, and the generator is asked for a photo the critic files under the
        category it was given."""
        if self.category_weight <= 0:
            return tf.constant(0.0), tf.constant(0.0)
        critic_loss = _category_cross_entropy(
            condition[0], self.category_critic(photos, training=True)
        )
        g_category = _category_cross_entropy(
            condition[0], self.category_critic(fakes, training=True)
        )
        return critic_loss, g_category

    def train_step(self, data: tuple[Any, ...]) -> dict[str, tf.Tensor]:
        # an optional third element weighs each pair's L1 term (a real sketch's pair less than
        # an aligned edge map's: its photo is only loosely where the strokes are)
        inputs, photos, *l1_weights = data
        sketches, condition = self._split(inputs)
        uses_critic = self.category_weight > 0
        with (
            tf.GradientTape() as g_tape,
            tf.GradientTape() as d_tape,
            tf.GradientTape(watch_accessed_variables=uses_critic) as critic_tape,
        ):
            fakes = self.generator([sketches, *condition] if condition else sketches, training=True)
            seen_sketches, (seen_photos, seen_fakes) = (
                augment_pairs(sketches, [photos, fakes], self.discriminator_augment)
                if self.discriminator_augment
                else (sketches, (photos, fakes))
            )
            scales, uses_r1 = self.discriminator_scales, self.r1_weight > 0
            with tf.GradientTape(watch_accessed_variables=False) as r1_tape:
                if uses_r1:
                    r1_tape.watch(seen_photos)
                real_outputs = self.discriminator_features(
                    [seen_sketches, seen_photos, *condition], training=True
                )
                real_features, real_logits = real_outputs[:-scales], real_outputs[-scales:]
                if uses_r1:  # the score whose gradient R1 penalises, taped for it
                    real_score = tf.add_n(
                        [tf.reduce_sum(tf.cast(x, "float32")) for x in real_logits]
                    )
            fake_outputs = self.discriminator_features(
                [seen_sketches, seen_fakes, *condition], training=True
            )
            fake_features, fake_logits = fake_outputs[:-scales], fake_outputs[-scales:]

            d_loss = 0.5 * (_bce(1.0, real_logits) + _bce(0.0, fake_logits))
            if uses_r1:
                # Recorded by d_tape: the penalty's own gradient is a second derivative.
                photo_gradients = r1_tape.gradient(real_score, seen_photos)
                d_r1 = tf.reduce_mean(
                    tf.reduce_sum(tf.square(tf.cast(photo_gradients, "float32")), axis=[1, 2, 3])
                )
                d_loss += 0.5 * self.r1_weight * d_r1
            else:
                d_r1 = tf.constant(0.0)
            g_gan = _bce(1.0, fake_logits)
            pair_l1 = tf.reduce_mean(tf.abs(tf.cast(photos, "float32") - fakes), axis=[1, 2, 3])
            g_l1 = tf.reduce_mean(pair_l1)  # reported unweighted, comparable across runs
            l1_term = _weighted_mean(pair_l1, l1_weights)
            if self._uses_perceptual():
                g_perceptual = self.perceptual(photos, fakes)
            else:
                g_perceptual = tf.constant(0.0)
            g_loss = g_gan + self.l1_weight * l1_term + self.perceptual_weight * g_perceptual
            if self.feature_matching_weight > 0:
                # The real pair's activations are targets: the generator's loss must not move
                # the discriminator through them (its own tape has its own loss).
                pair_fm = _pair_feature_distance(real_features, fake_features)
                g_feature_matching = tf.reduce_mean(pair_fm)
                g_loss += self.feature_matching_weight * _weighted_mean(pair_fm, l1_weights)
            else:
                g_feature_matching = tf.constant(0.0)
            critic_loss, g_category = self._category_losses(photos, fakes, condition)
            g_loss += self.category_weight * g_category
            scaled_critic_loss = (
                self.critic_optimizer.scale_loss(_per_replica(critic_loss)) if uses_critic else None
            )

            scaled_g_loss = self.g_optimizer.scale_loss(_per_replica(g_loss))
            scaled_d_loss = self.d_optimizer.scale_loss(_per_replica(d_loss))

        _step(self.g_optimizer, g_tape, scaled_g_loss, self.generator)
        _step(self.d_optimizer, d_tape, scaled_d_loss, self.discriminator)
        if uses_critic:
            _step(self.critic_optimizer, critic_tape, scaled_critic_loss, self.category_critic)

        values = {
            self.g_loss_tracker: g_loss,
            self.g_gan_tracker: g_gan,
            self.g_l1_tracker: g_l1,
            self.g_perceptual_tracker: g_perceptual,
            self.g_feature_matching_tracker: g_feature_matching,
            self.d_loss_tracker: d_loss,
            self.d_r1_tracker: d_r1,
            self.g_category_tracker: g_category,
            self.critic_loss_tracker: critic_loss,
        }
        for tracker, value in values.items():
            tracker.update_state(value)
        return self._report({tracker.name: tracker.result() for tracker in values})

    def _report(self, results: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        # Keras reduces step outputs across workers with MEAN along axis 0, which fails on
        # scalars under MultiWorkerMirroredStrategy: there, report each value as shape (1,).
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def test_step(self, data: tuple[Any, tf.Tensor]) -> dict[str, tf.Tensor]:
        inputs, photos = data
        fakes = self.generator(inputs, training=False)
        self.l1_tracker.update_state(tf.reduce_mean(tf.abs(tf.cast(photos, "float32") - fakes)))
        if self.perceptual is not None:
            self.perceptual_tracker.update_state(self.perceptual(photos, fakes))
        else:
            self.perceptual_tracker.update_state(0.0)
        return self._report(
            {"l1": self.l1_tracker.result(), "perceptual": self.perceptual_tracker.result()}
        )
