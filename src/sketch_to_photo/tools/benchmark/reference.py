"""The TensorFlow pix2pix tutorial's model and train step, as the benchmark's reference.

Written to match https://www.tensorflow.org/tutorials/generative/pix2pix line for line at its
configuration (256x256, ``base_filters=64``): ``downsample``/``upsample`` blocks built as
``tf.keras.Sequential``, the U-Net generator (54,425,859 parameters) and the PatchGAN
discriminator (2,770,433), ``BinaryCrossentropy(from_logits=True)`` + 100 x L1, two
``Adam(2e-4, beta_1=0.5)`` and a ``@tf.function`` train step with two ``GradientTape``s.
Left out: the tutorial's TensorBoard summaries inside the step (file writes, not training).

``image_size`` and ``base_filters`` exist only so that a test can run it small: the encoder
keeps the tutorial's first ``log2(image_size)`` blocks, filters scaled by ``base_filters / 64``.
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

OUTPUT_CHANNELS = 3
LAMBDA = 100
TUTORIAL_ENCODER_FILTERS = (64, 128, 256, 512, 512, 512, 512, 512)


def downsample(filters: int, size: int, apply_batchnorm: bool = True) -> tf.keras.Sequential:
    initializer = tf.random_normal_initializer(0.0, 0.02)
    result = tf.keras.Sequential()
    result.add(
        tf.keras.layers.Conv2D(
            filters,
            size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            use_bias=False,
        )
    )
    if apply_batchnorm:
        result.add(tf.keras.layers.BatchNormalization())
    result.add(tf.keras.layers.LeakyReLU())
    return result


def upsample(filters: int, size: int, apply_dropout: bool = False) -> tf.keras.Sequential:
    initializer = tf.random_normal_initializer(0.0, 0.02)
    result = tf.keras.Sequential()
    result.add(
        tf.keras.layers.Conv2DTranspose(
            filters,
            size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            use_bias=False,
        )
    )
    result.add(tf.keras.layers.BatchNormalization())
    if apply_dropout:
        result.add(tf.keras.layers.Dropout(0.5))
    result.add(tf.keras.layers.ReLU())
    return result


def _encoder_filters(image_size: int, base_filters: int) -> list[int]:
    n_blocks = image_size.bit_length() - 1
    if image_size < 32 or image_size & (image_size - 1) or n_blocks > len(TUTORIAL_ENCODER_FILTERS):
        raise ValueError(f"image_size must be a power of 2 in 32..256, got {image_size}")
    return [f * base_filters // 64 for f in TUTORIAL_ENCODER_FILTERS[:n_blocks]]


def Generator(image_size: int = 256, base_filters: int = 64) -> tf.keras.Model:  # noqa: N802
    """The tutorial's U-Net (its function name kept so the two read side by side)."""
    filters = _encoder_filters(image_size, base_filters)
    inputs = tf.keras.layers.Input(shape=[image_size, image_size, 3])
    down_stack = [downsample(filters[0], 4, apply_batchnorm=False)]
    down_stack += [downsample(f, 4) for f in filters[1:]]
    # Mirror of the encoder without its innermost block; dropout on the first three.
    up_stack = [upsample(f, 4, apply_dropout=i < 3) for i, f in enumerate(filters[-2::-1])]

    initializer = tf.random_normal_initializer(0.0, 0.02)
    last = tf.keras.layers.Conv2DTranspose(
        OUTPUT_CHANNELS,
        4,
        strides=2,
        padding="same",
        kernel_initializer=initializer,
        activation="tanh",
    )

    x = inputs
    skips = []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    skips = reversed(skips[:-1])
    for up, skip in zip(up_stack, skips, strict=True):
        x = up(x)
        x = tf.keras.layers.Concatenate()([x, skip])
    x = last(x)
    return tf.keras.Model(inputs=inputs, outputs=x)


def Discriminator(image_size: int = 256, base_filters: int = 64) -> tf.keras.Model:  # noqa: N802
    """The tutorial's PatchGAN: 30x30 logits at 256 px."""
    initializer = tf.random_normal_initializer(0.0, 0.02)
    inp = tf.keras.layers.Input(shape=[image_size, image_size, 3], name="input_image")
    tar = tf.keras.layers.Input(shape=[image_size, image_size, 3], name="target_image")
    x = tf.keras.layers.concatenate([inp, tar])

    down1 = downsample(base_filters, 4, False)(x)
    down2 = downsample(base_filters * 2, 4)(down1)
    down3 = downsample(base_filters * 4, 4)(down2)

    zero_pad1 = tf.keras.layers.ZeroPadding2D()(down3)
    conv = tf.keras.layers.Conv2D(
        base_filters * 8, 4, strides=1, kernel_initializer=initializer, use_bias=False
    )(zero_pad1)
    batchnorm1 = tf.keras.layers.BatchNormalization()(conv)
    leaky_relu = tf.keras.layers.LeakyReLU()(batchnorm1)
    zero_pad2 = tf.keras.layers.ZeroPadding2D()(leaky_relu)
    last = tf.keras.layers.Conv2D(1, 4, strides=1, kernel_initializer=initializer)(zero_pad2)
    return tf.keras.Model(inputs=[inp, tar], outputs=last)


class TutorialPix2Pix:
    """The tutorial's models, losses, optimizers and ``train_step``, held together."""

    def __init__(self, image_size: int = 256, base_filters: int = 64) -> None:
        self.generator = Generator(image_size, base_filters)
        self.discriminator = Discriminator(image_size, base_filters)
        self.loss_object = tf.keras.losses.BinaryCrossentropy(from_logits=True)
        self.generator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.discriminator_optimizer = tf.keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.train_step: Callable[[tf.Tensor, tf.Tensor], dict[str, tf.Tensor]] = tf.function(
            self._train_step
        )

    def generator_loss(
        self, disc_generated_output: tf.Tensor, gen_output: tf.Tensor, target: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        gan_loss = self.loss_object(tf.ones_like(disc_generated_output), disc_generated_output)
        l1_loss = tf.reduce_mean(tf.abs(target - gen_output))
        total_gen_loss = gan_loss + (LAMBDA * l1_loss)
        return total_gen_loss, gan_loss, l1_loss

    def discriminator_loss(
        self, disc_real_output: tf.Tensor, disc_generated_output: tf.Tensor
    ) -> tf.Tensor:
        real_loss = self.loss_object(tf.ones_like(disc_real_output), disc_real_output)
        generated_loss = self.loss_object(
            tf.zeros_like(disc_generated_output), disc_generated_output
        )
        return real_loss + generated_loss

    def _train_step(self, input_image: tf.Tensor, target: tf.Tensor) -> dict[str, tf.Tensor]:
        generator, discriminator = self.generator, self.discriminator
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)

            disc_real_output = discriminator([input_image, target], training=True)
            disc_generated_output = discriminator([input_image, gen_output], training=True)

            gen_total_loss, gen_gan_loss, gen_l1_loss = self.generator_loss(
                disc_generated_output, gen_output, target
            )
            disc_loss = self.discriminator_loss(disc_real_output, disc_generated_output)

        generator_gradients = gen_tape.gradient(gen_total_loss, generator.trainable_variables)
        discriminator_gradients = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        self.generator_optimizer.apply_gradients(
            zip(generator_gradients, generator.trainable_variables, strict=True)
        )
        self.discriminator_optimizer.apply_gradients(
            zip(discriminator_gradients, discriminator.trainable_variables, strict=True)
        )
        # Returned (the tutorial writes them to TensorBoard) for the loss-curve comparison.
        return {"g_loss": gen_total_loss, "g_l1": gen_l1_loss, "d_loss": disc_loss}
