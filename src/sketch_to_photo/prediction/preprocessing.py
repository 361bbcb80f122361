"""The one preprocessing path from a sketch to the generator's input, and back to an image.

Training, evaluation and the demo all go through these functions, so a sketch drawn in the demo
reaches the model exactly as the training sketches did: RGB, black strokes on white, padded to a
square with white, resized to the model's size and scaled to ``[-1, 1]``.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

MAX_INPUT_PIXELS = 40_000_000
INK_LEVEL = 200  # a pixel darker than this (0..255 grey) counts as a stroke
UNIFORM_RANGE = 16  # grey range below which an image has no drawing at all (e.g. all black)

ImageSource = bytes | bytearray | str | os.PathLike | np.ndarray | Image.Image


class SketchInputError(ValueError):
    """A sketch that cannot be used: the message says what is wrong and what to do."""


def png_bytes(image: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> PNG file bytes (the served photo, the demo's download)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def load_image(source: ImageSource) -> np.ndarray:
    """Decode ``source`` to an array of shape (H,W), (H,W,1), (H,W,3) or (H,W,4).

    Bytes, paths and PIL images are decoded to uint8 (EXIF orientation applied); an ndarray is
    checked and returned as is (float arrays are scaled later by :func:`sketch_to_rgb`).
    """
    if isinstance(source, np.ndarray):
        _check_array_shape(source)
        _check_pixels(source.shape[1], source.shape[0])
        return source
    if isinstance(source, Image.Image):
        _check_pixels(*source.size)
        return _pil_to_array(source)
    if isinstance(source, bytes | bytearray):
        if not source:
            raise SketchInputError(
                "the image is empty (0 bytes): send a PNG or JPEG of the sketch."
            )
        name, stream = "the uploaded data", io.BytesIO(bytes(source))
    elif isinstance(source, str | os.PathLike):
        name, stream = os.fspath(source), os.fspath(source)
    else:
        raise TypeError(
            f"Cannot read a sketch from {type(source).__name__}: "
            "pass image bytes, a file path, a NumPy array or a PIL image."
        )
    with warnings.catch_warnings():
        # Our own limit is lower than PIL's warning threshold; PIL's warning would only be noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(stream) as image:
                _check_pixels(*image.size)  # header only: nothing decoded yet
                return _pil_to_array(image)
        except (SketchInputError, FileNotFoundError, IsADirectoryError, PermissionError):
            raise
        except UnidentifiedImageError as exc:
            raise SketchInputError(
                f"{name} is not an image file (PNG, JPEG, ...): upload a picture of the sketch."
            ) from exc
        except Image.DecompressionBombError as exc:
            raise SketchInputError(
                f"{name} is too large ({exc}); the limit is {MAX_INPUT_PIXELS:,} pixels: "
                "scale the sketch down and try again."
            ) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise SketchInputError(
                f"{name} could not be decoded as an image ({exc}): it may be truncated or "
                "damaged; save it again as PNG or JPEG."
            ) from exc


def sketch_to_rgb(image: np.ndarray) -> np.ndarray:
    """Convert greyscale, RGB or RGBA (uint8, uint16 or float in [0, 1]) to (H,W,3) uint8.

    Transparency is composited onto white, so a transparent canvas background becomes white
    paper. Empty or uniform images pass; :func:`is_blank` detects them.
    """
    image = np.asarray(image)
    _check_array_shape(image)
    image = _to_uint8_levels(image)
    if image.ndim == 2:
        image = image[:, :, None]
    channels = image.shape[2]
    if channels in (2, 4):  # grey+alpha or RGBA
        colour = image[:, :, :-1].astype(np.float32)
        alpha = image[:, :, -1:].astype(np.float32) / 255.0
        image = np.rint(colour * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        channels -= 1
    if channels == 1:
        image = np.repeat(image, 3, axis=2)
    return np.ascontiguousarray(image)


def is_blank(image_rgb: np.ndarray, threshold: float = 0.002) -> bool:
    """True when fewer than ``threshold`` of the pixels are ink, or the image is uniform."""
    grey = cv2.cvtColor(np.ascontiguousarray(image_rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if grey.size == 0 or int(grey.max()) - int(grey.min()) < UNIFORM_RANGE:
        return True
    return float(np.count_nonzero(grey < INK_LEVEL)) / grey.size < threshold


def resize_square(image_rgb: np.ndarray, size: int) -> np.ndarray:
    """Pad an (H,W,3) uint8 image to a centred square with white, then resize to size x size."""
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(
            f"resize_square wants (H, W, 3) uint8, got {image_rgb.shape} {image_rgb.dtype}: "
            "convert with sketch_to_rgb first."
        )
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    height, width = image_rgb.shape[:2]
    side = max(height, width)
    if height != width:
        top, left = (side - height) // 2, (side - width) // 2
        image_rgb = cv2.copyMakeBorder(
            image_rgb,
            top,
            side - height - top,
            left,
            side - width - left,
            cv2.BORDER_CONSTANT,
            value=(255, 255, 255),
        )
    if side == size:
        return np.array(image_rgb, copy=True)
    # INTER_AREA averages when shrinking (no aliasing of thin strokes); cubic when enlarging.
    interpolation = cv2.INTER_AREA if size < side else cv2.INTER_CUBIC
    return cv2.resize(image_rgb, (size, size), interpolation=interpolation)


def to_model_range(images_uint8: np.ndarray) -> np.ndarray:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return np.asarray(images_uint8, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


def to_uint8(images: np.ndarray | tf.Tensor) -> np.ndarray:
    """[-1, 1] (array or tensor) -> uint8 [0, 255], clipped and rounded."""
    array = images.numpy() if hasattr(images, "numpy") else np.asarray(images)
    array = np.nan_to_num(array.astype(np.float32), nan=0.0)
    return np.clip(np.rint((array + 1.0) * 127.5), 0, 255).astype(np.uint8)


def read_sketch(source: ImageSource) -> np.ndarray:
    """Any accepted sketch input -> (H, W, 3) uint8 RGB on white; :class:`SketchInputError`
    when it is not an image or has nothing drawn on it."""
    rgb = sketch_to_rgb(load_image(source))
    if is_blank(rgb):
        raise SketchInputError("the sketch is empty: draw something (dark strokes on white).")
    return rgb


def preprocess_sketch(source: ImageSource, image_size: int) -> np.ndarray:
    """Any accepted sketch input -> (image_size, image_size, 3) float32 in [-1, 1]."""
    return to_model_range(resize_square(read_sketch(source), image_size))


def prepare_pair_arrays(
    sketches_uint8: np.ndarray, photos_uint8: np.ndarray, image_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Batch form for shard arrays: (N,H,W,3) uint8 each -> (N,S,S,3) float32 in [-1, 1]."""
    if len(sketches_uint8) != len(photos_uint8):
        raise ValueError(f"{len(sketches_uint8)} sketches but {len(photos_uint8)} photos")
    return prepare_images(sketches_uint8, image_size), prepare_images(photos_uint8, image_size)


def prepare_images(images_uint8: np.ndarray, image_size: int) -> np.ndarray:
    """(N,H,W,3) uint8 -> (N,S,S,3) float32 in [-1, 1] via :func:`resize_square`."""
    if images_uint8.dtype != np.uint8 or images_uint8.ndim != 4 or images_uint8.shape[3] != 3:
        raise ValueError(
            f"images must be (N, H, W, 3) uint8, got {images_uint8.shape} {images_uint8.dtype}"
        )
    if images_uint8.shape[1:3] == (image_size, image_size):  # shards are stored at model size
        return to_model_range(images_uint8)
    out = np.empty((len(images_uint8), image_size, image_size, 3), dtype=np.float32)
    for i, image in enumerate(images_uint8):
        out[i] = to_model_range(resize_square(image, image_size))
    return out


def is_class_aware(generator: keras.Model) -> bool:
    """True for a class-conditional generator: inputs ``[sketch, category one-hot]``."""
    return len(generator.inputs) == 2


def generator_inputs(
    generator: keras.Model, sketches: np.ndarray, categories: np.ndarray | None = None
) -> np.ndarray | list[np.ndarray]:
    """What ``generator`` takes for a batch of sketches ``(N, S, S, 3)`` in [-1, 1].

    A class-aware generator also takes each sketch's category as a one-hot vector, built here
    from the integer ``categories`` (indices into the model's category list); a plain one
    ignores them.
    """
    if not is_class_aware(generator):
        return sketches
    num_classes = int(generator.inputs[1].shape[-1])
    if categories is None:
        raise ValueError(
            "this generator is class-aware: give the category of each sketch (the sketch "
            "classifier's guess or the user's choice)"
        )
    indices = np.asarray(categories, dtype=np.int64).reshape(-1)
    if len(indices) != len(sketches):
        raise ValueError(f"{len(sketches)} sketches but {len(indices)} categories")
    if indices.min(initial=0) < 0 or indices.max(initial=0) >= num_classes:
        raise ValueError(f"category indices must be in [0, {num_classes}), got {indices}")
    return [sketches, np.eye(num_classes, dtype=np.float32)[indices]]


def category_name(text: str, categories: Sequence[str]) -> str:
    """A category name as the user wrote it -> the model's: ``teddy bear`` (as the demo and
    the photos' captions show it) is ``teddy_bear``; anything else is returned as it is."""
    underscored = "_".join(text.split())
    return underscored if text not in categories and underscored in categories else text


def _category_index(category: int | str | None, categories: Sequence[str] | None) -> int | None:
    """``category`` as an index into the model's categories: an index stays as it is, a name is
    looked up in ``categories`` (the model's category list, in label order)."""
    if category is None or not isinstance(category, str):
        return category
    if categories is None:
        raise ValueError(
            f"category {category!r} is a name: also pass categories=, the model's category list "
            "(the registered model's metadata 'categories'), or give its index"
        )
    names = list(categories)
    category = category_name(category, names)
    if category not in names:
        raise ValueError(f"{category!r} is not one of this model's categories: {names}")
    return names.index(category)


def generate_photo(
    generator: keras.Model,
    sketch_source: ImageSource,
    image_size: int | None = None,
    category: int | str | None = None,
    categories: Sequence[str] | None = None,
) -> np.ndarray:
    """Run the generator on one sketch; returns the photo as (S,S,3) uint8.

    A class-aware generator needs ``category``: an index into the model's categories, or a
    name together with ``categories``, the model's category list in label order (the
    registered model's metadata ``categories``; ``"teddy bear"`` is ``teddy_bear``). A plain
    generator ignores the category; a name not in ``categories`` is an error for both.
    """
    if image_size is None:
        shape = generator.inputs[0].shape if getattr(generator, "inputs", None) else None
        image_size = shape[1] if shape else None
        if image_size is None:
            raise ValueError("the generator takes any input size: pass image_size explicitly")
    index = _category_index(category, categories)
    x = preprocess_sketch(sketch_source, image_size)
    inputs = generator_inputs(generator, x[None], None if index is None else [index])
    # predict_on_batch runs the compiled inference function: about 30% faster than an eager call
    return to_uint8(generator.predict_on_batch(inputs)[0])


def _check_array_shape(image: np.ndarray) -> None:
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 2, 3, 4))):
        raise SketchInputError(
            f"an image array must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), "
            f"got shape {image.shape}."
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise SketchInputError(f"the image has no pixels (shape {image.shape}).")


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_INPUT_PIXELS:
        raise SketchInputError(
            f"the image is {width}x{height} = {width * height:,} pixels, more than the limit of "
            f"{MAX_INPUT_PIXELS:,}: scale it down (1024x1024 is plenty) and try again."
        )


def _pil_to_array(image: Image.Image) -> np.ndarray:
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in ("L", "RGB", "RGBA"):
        pass
    elif mode.startswith("I;16") or mode in ("I", "F"):
        return _to_uint8_levels(np.asarray(image))
    elif (mode == "P" and "transparency" in image.info) or mode in ("LA", "PA", "RGBa", "La"):
        image = image.convert("RGBA")
    elif mode == "1":
        image = image.convert("L")
    else:  # P, CMYK, YCbCr, LAB, HSV...
        image = image.convert("RGB")
    return np.array(image, dtype=np.uint8)


def _to_uint8_levels(image: np.ndarray) -> np.ndarray:
    """Map an array's values to uint8 levels: floats from [0, 1], 16-bit from [0, 65535]."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise SketchInputError("the image contains NaN or infinite values.")
        low, high = float(image.min()), float(image.max())
        if low < -1e-3 or high > 1.0 + 1e-3:
            raise SketchInputError(
                f"a float image must be in [0, 1], got values in [{low:g}, {high:g}]: "
                "pass uint8 for 0..255 images."
            )
        return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    if image.dtype == np.uint16 or (np.issubdtype(image.dtype, np.integer) and image.max() > 255):
        if image.min() < 0 or image.max() > 65535:
            raise SketchInputError(f"image values out of range for {image.dtype}.")
        return np.rint(image.astype(np.float32) / 257.0).astype(np.uint8)
    if np.issubdtype(image.dtype, np.integer):
        if image.min() < 0:
            raise SketchInputError("an integer image must not have negative values.")
        return image.astype(np.uint8)
    raise SketchInputError(f"unsupported image dtype {image.dtype}: use uint8.")
