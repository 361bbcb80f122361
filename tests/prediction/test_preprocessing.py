"""The single preprocessing path: every input kind, its errors, and training equivalence."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from sketch_to_photo.prediction import preprocessing
from sketch_to_photo.prediction.preprocessing import (
    SketchInputError,
    category_name,
    generate_photo,
    is_blank,
    load_image,
    prepare_pair_arrays,
    preprocess_sketch,
    resize_square,
    sketch_to_rgb,
    to_model_range,
    to_uint8,
)
from tests.prediction.test_photograph import CATEGORIES, class_aware_generator


def _drawing(height: int = 48, width: int = 48) -> np.ndarray:
    """Greyscale (H, W) uint8: black strokes on white."""
    image = np.full((height, width), 255, np.uint8)
    image[height // 4 : height // 4 + 3, 4:-4] = 0
    image[4:-4, width // 2 : width // 2 + 3] = 0
    return image


def _encode(image: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt)
    return buffer.getvalue()


def test_greyscale_2d_and_single_channel_become_rgb():
    grey = _drawing()
    for image in (grey, grey[:, :, None]):
        rgb = sketch_to_rgb(image)
        assert rgb.shape == (48, 48, 3) and rgb.dtype == np.uint8
        assert np.array_equal(rgb[:, :, 0], grey) and np.array_equal(rgb[:, :, 2], grey)


def test_rgb_uint8_passes_unchanged():
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    assert np.array_equal(sketch_to_rgb(rgb), rgb)


def test_rgba_transparent_background_becomes_white_and_strokes_stay_black():
    # What a drawing canvas returns: strokes opaque black, background transparent (rgb 0).
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:13, 5:35, 3] = 255
    half = np.zeros_like(rgba)
    half[..., 3] = 128
    rgb = sketch_to_rgb(rgba)
    assert rgb.shape == (40, 40, 3)
    assert (rgb[rgba[..., 3] == 0] == 255).all()
    assert (rgb[10:13, 5:35] == 0).all()
    assert (sketch_to_rgb(half) == 127).all()  # half-transparent black over white


def test_float_input_in_unit_range_is_scaled():
    grey = _drawing()
    as_float = grey.astype(np.float32) / 255.0
    assert np.array_equal(sketch_to_rgb(as_float), sketch_to_rgb(grey))
    with pytest.raises(SketchInputError, match=r"\[0, 1\]"):
        sketch_to_rgb(as_float * 255.0)


def test_bad_array_shape_is_refused():
    with pytest.raises(SketchInputError, match="must be"):
        sketch_to_rgb(np.zeros((4, 4, 5), np.uint8))


def test_non_square_image_is_padded_with_white_and_centred():
    image = np.zeros((20, 40, 3), np.uint8)  # all black, wide
    square = resize_square(image, 40)
    assert square.shape == (40, 40, 3)
    assert (square[:10] == 255).all() and (square[30:] == 255).all()
    assert (square[10:30] == 0).all()
    tall = resize_square(np.zeros((40, 20, 3), np.uint8), 20)  # also shrinks
    assert tall.shape == (20, 20, 3)
    assert (tall[:, :5] == 255).all() and (tall[:, 15:] == 255).all() and (tall[:, 5:15] == 0).all()


def test_resize_square_enlarges_and_shrinks_uint8():
    image = sketch_to_rgb(_drawing())
    for size in (16, 48, 96):
        out = resize_square(image, size)
        assert out.shape == (size, size, 3) and out.dtype == np.uint8
    assert np.array_equal(resize_square(image, 48), image)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_encoded_bytes_decode(fmt):
    decoded = load_image(_encode(_drawing(), fmt))
    assert decoded.shape == (48, 48) and decoded.dtype == np.uint8
    assert np.abs(decoded.astype(int) - _drawing()).max() <= (0 if fmt == "PNG" else 60)


def test_rgba_png_bytes_and_path(tmp_path: Path):
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[5:25, 14:17, 3] = 255
    path = tmp_path / "sketch.png"
    path.write_bytes(_encode(rgba, "PNG"))
    with Image.open(path) as opened:
        pil_image = opened.copy()
    for source in (path, str(path), path.read_bytes(), pil_image):
        loaded = load_image(source)
        assert loaded.shape == (30, 30, 4)
        rgb = sketch_to_rgb(loaded)
        assert (rgb[0, 0] == 255).all() and (rgb[10, 15] == 0).all()


def test_palette_and_16_bit_images_decode():
    grey = _drawing()
    palette = Image.fromarray(grey).convert("P")
    assert np.array_equal(sketch_to_rgb(load_image(palette))[:, :, 0], grey)
    sixteen = Image.fromarray(grey.astype(np.uint16) * 257)
    assert np.array_equal(sketch_to_rgb(load_image(sixteen))[:, :, 0], grey)


def test_not_an_image_is_refused_with_a_clear_message(tmp_path: Path):
    with pytest.raises(SketchInputError, match=r"is not an image file \(PNG, JPEG"):
        load_image(b"%PDF-1.7 this is a document")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(SketchInputError, match="notes.txt is not an image file"):
        preprocess_sketch(text, 32)
    with pytest.raises(SketchInputError, match="could not be decoded"):
        load_image(_encode(_drawing(), "PNG")[:60])  # truncated


def _png_claiming_size(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header says width x height: only a header check can read it "fine"."""
    data = bytearray(_encode(np.zeros((1, 1), np.uint8), "PNG"))
    ihdr = 8 + 4  # signature, then the IHDR chunk's length
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def test_too_large_image_is_refused_before_decoding():
    big_png = _encode(np.full((8000, 8000), 255, np.uint8), "PNG")  # all white: ~80 kB
    assert len(big_png) < 200_000
    with pytest.raises(SketchInputError, match=r"8000x8000 = 64,000,000 pixels.*40,000,000"):
        load_image(big_png)
    with pytest.raises(SketchInputError, match=r"9000x9000 = 81,000,000 pixels"):
        load_image(_png_claiming_size(9000, 9000))
    # Beyond PIL's own decompression-bomb limit PIL refuses first; the message stays ours.
    with pytest.raises(SketchInputError, match=r"too large .*limit is 40,000,000 pixels"):
        load_image(_png_claiming_size(20000, 20000))


def test_pixel_limit_applies_to_every_input_kind(monkeypatch):
    monkeypatch.setattr(preprocessing, "MAX_INPUT_PIXELS", 1000)
    with pytest.raises(SketchInputError, match="limit"):
        load_image(np.zeros((40, 30), np.uint8))
    with pytest.raises(SketchInputError, match="limit"):
        preprocess_sketch(Image.new("L", (40, 30)), 32)
    assert load_image(np.zeros((10, 100), np.uint8)).shape == (10, 100)


def test_blank_canvas_is_refused():
    white = np.full((64, 64, 3), 255, np.uint8)
    transparent = np.zeros((64, 64, 4), np.uint8)
    black = np.zeros((64, 64), np.uint8)
    for image in (white, transparent, black):
        assert is_blank(sketch_to_rgb(image))
        with pytest.raises(SketchInputError, match="the sketch is empty: draw something"):
            preprocess_sketch(image, 32)
    assert not is_blank(sketch_to_rgb(_drawing()))
    one_dot = white.copy()
    one_dot[30, 30] = 0  # 1 pixel of 4096: below the 0.2 % threshold
    assert is_blank(one_dot)


def test_preprocess_output_range_dtype_shape():
    for source in (_drawing(), _drawing(30, 70), _encode(_drawing(), "JPEG")):
        x = preprocess_sketch(source, 32)
        assert x.shape == (32, 32, 3) and x.dtype == np.float32
        assert x.min() >= -1.0 and x.max() <= 1.0
        assert x.min() < -0.5 and x.max() == 1.0  # strokes and white paper


def test_model_range_round_trip():
    values = np.arange(256, dtype=np.uint8)
    scaled = to_model_range(values)
    assert scaled.dtype == np.float32 and scaled[0] == -1.0 and scaled[-1] == 1.0
    assert np.array_equal(to_uint8(scaled), values)
    assert np.array_equal(to_uint8(np.array([-3.0, 0.0, 7.0])), [0, 128, 255])


def test_training_batch_path_equals_demo_path():
    rng = np.random.default_rng(1)
    sketches = np.stack([sketch_to_rgb(_drawing(64, 64)) for _ in range(3)])
    sketches[1, 5:9, 5:60] = 0
    photos = rng.integers(0, 256, sketches.shape, dtype=np.uint8)
    for size in (64, 32):
        batch_sketches, batch_photos = prepare_pair_arrays(sketches, photos, size)
        assert batch_sketches.shape == batch_photos.shape == (3, size, size, 3)
        assert batch_sketches.dtype == batch_photos.dtype == np.float32
        for i in range(3):
            assert np.array_equal(batch_sketches[i], preprocess_sketch(sketches[i], size))
            assert np.array_equal(
                batch_sketches[i], preprocess_sketch(_encode(sketches[i], "PNG"), size)
            )


def test_generate_photo_with_a_real_model():
    inputs = keras.Input((32, 32, 3))
    outputs = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)
    generator = keras.Model(inputs, outputs)
    photo = generate_photo(generator, _encode(_drawing(80, 60), "PNG"))
    assert photo.shape == (32, 32, 3) and photo.dtype == np.uint8
    expected = to_uint8(generator(preprocess_sketch(_drawing(80, 60), 32)[None])[0])
    assert np.array_equal(photo, expected)


def test_generate_photo_takes_a_category_by_index_or_by_name_for_a_class_aware_generator():
    generator = class_aware_generator()
    sketch = _encode(_drawing(80, 60), "PNG")
    by_index = [generate_photo(generator, sketch, category=i) for i in range(len(CATEGORIES))]
    assert not np.array_equal(by_index[0], by_index[1])  # the category changes the photo
    for i, name in enumerate(CATEGORIES):
        by_name = generate_photo(generator, sketch, category=name, categories=CATEGORIES)
        assert np.array_equal(by_name, by_index[i]), name

    with pytest.raises(ValueError, match="this generator is class-aware: give the category"):
        generate_photo(generator, sketch)
    with pytest.raises(ValueError, match="'ant' is a name: also pass categories="):
        generate_photo(generator, sketch, category="ant")
    with pytest.raises(
        ValueError, match=r"'zebra' is not one of this model's categories: \['alarm"
    ):
        generate_photo(generator, sketch, category="zebra", categories=CATEGORIES)


def test_a_plain_generator_ignores_a_known_category_and_refuses_an_unknown_one():
    inputs = keras.Input((32, 32, 3))
    generator = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(inputs))
    sketch = _encode(_drawing(80, 60), "PNG")
    plain = generate_photo(generator, sketch)
    named = generate_photo(generator, sketch, category="ant", categories=CATEGORIES)
    assert np.array_equal(named, plain)
    with pytest.raises(ValueError, match="'zebra' is not one of this model's categories"):
        generate_photo(generator, sketch, category="zebra", categories=CATEGORIES)


def test_a_category_name_may_be_written_as_the_demo_shows_it():
    generator = class_aware_generator()
    sketch = _encode(_drawing(80, 60), "PNG")
    underscored = generate_photo(generator, sketch, category="teddy_bear", categories=CATEGORIES)
    spaced = generate_photo(generator, sketch, category="teddy bear", categories=CATEGORIES)
    assert np.array_equal(spaced, underscored)
    assert category_name(" teddy  bear ", CATEGORIES) == "teddy_bear"
    assert category_name("polar bear", CATEGORIES) == "polar bear"  # unknown: left to the check
