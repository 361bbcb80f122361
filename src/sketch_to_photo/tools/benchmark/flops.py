"""Convolution FLOPs of Keras models, and the training-step formula both trainers are scored by.

Only convolutions are counted (they are over 99% of pix2pix's arithmetic); a multiply-add is
2 FLOPs. Per image:

- ``Conv2D``: ``2 * H_out * W_out * (kh * kw * C_in) * C_out``;
- ``Conv2DTranspose``: ``2 * H_in * W_in * (kh * kw * C_in) * C_out`` (each input pixel is
  scattered through the whole kernel).

One pix2pix training step (generator G, discriminator D, forward costs ``F_G`` and ``F_D``):

- forward: G once, D twice (real and fake pair): ``F_G + 2 F_D``;
- discriminator update: weight and input gradients through both D passes: ``4 F_D``;
- generator update: input gradients back through the fake D pass (``F_D``), then weight and
  input gradients through G (``2 F_G``).

Total ``3 F_G + 7 F_D`` per image. The same formula scores the reference and the project's
trainer, so their GFLOP/s compare like their images per second.
"""

from __future__ import annotations

import math

import keras

TRAIN_GENERATOR_PASSES = 3
TRAIN_DISCRIMINATOR_PASSES = 7


def _spatial(shape: tuple) -> int:
    # (batch, H, W, C): the batch dimension is None in a functional model.
    return math.prod(int(d) for d in shape[1:-1])


def conv_flops(model: keras.Model) -> int:
    """Convolution FLOPs of one forward pass of ``model`` for one image (nested models too)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += conv_flops(layer)
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            total += 2 * _spatial(layer.input.shape) * math.prod(layer.kernel.shape)
        elif isinstance(layer, keras.layers.Conv2D):
            total += 2 * _spatial(layer.output.shape) * math.prod(layer.kernel.shape)
        elif isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv3D)):
            raise TypeError(f"layer {layer.name}: only 2-D convolutions are counted")
    return total


def pix2pix_train_flops(generator: keras.Model, discriminator: keras.Model) -> int:
    """FLOPs of one training step per image: ``3 F_G + 7 F_D`` (see the module docstring)."""
    return TRAIN_GENERATOR_PASSES * conv_flops(generator) + TRAIN_DISCRIMINATOR_PASSES * conv_flops(
        discriminator
    )
