"""One sketch in, one photo out (shared by the demo, batch inference and the served model):
class-aware generation with the picked or guessed category, Keras and ONNX models alike."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from sketch_to_photo.prediction.photograph import (
    GUESSED,
    PICKED,
    CategoryNeeded,
    LoadedModel,
    sketch_to_photo,
)

CATEGORIES = ["alarm_clock", "ant", "teddy_bear"]
VERSION = "sketch_to_photo v7"


def class_aware_generator(size: int = 32, classes: int = len(CATEGORIES)) -> keras.Model:
    """A tiny generator with the class-aware contract: [sketch, category one-hot] -> photo."""
    init = keras.initializers.RandomNormal(stddev=1.0, seed=3)
    sketch = keras.Input((size, size, 3), name="sketch")
    category = keras.Input((classes,), name="category")
    drawn = keras.layers.Conv2D(3, 3, padding="same", kernel_initializer=init)(sketch)
    per_class = keras.layers.Reshape((size, size, 3))(
        keras.layers.Dense(size * size * 3, kernel_initializer=init)(category)
    )
    photo = keras.layers.Activation("tanh")(keras.layers.Add()([drawn, per_class]))
    return keras.Model([sketch, category], photo, name="class_aware_generator")


def fixed_classifier(
    answer: int, size: int = 32, classes: int = 4, logits: list[float] | None = None
) -> keras.Model:
    """A 'classifier' that always answers class ``answer`` (softmax of a fixed bias), or,
    given ``logits``, always gives their softmax."""
    inputs = keras.Input((size, size, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    bias = np.zeros(classes, np.float32)
    bias[answer] = 5.0
    if logits is not None:
        bias = np.asarray(logits, np.float32)
        classes = len(bias)
    scores = keras.layers.Dense(
        classes, activation="softmax", kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(bias),
    )(pooled)  # fmt: skip
    return keras.Model(inputs, scores)


def teapot() -> np.ndarray:
    sketch = np.full((96, 96, 3), 255, np.uint8)
    sketch[30:70, 20:24] = 0
    sketch[30:34, 20:80] = 0
    sketch[66:70, 20:80] = 0
    return sketch


def test_class_aware_generator_draws_the_picked_or_guessed_category():
    generator = LoadedModel(VERSION, class_aware_generator(), 32, list(CATEGORIES))
    # the classifier knows one more category than the generator, in another order
    classifier_names = ["zebra", "teddy_bear", "ant", "alarm_clock"]
    classifier = LoadedModel(VERSION, fixed_classifier(answer=2), 32, classifier_names)

    guessed = sketch_to_photo(teapot(), generator, classifier)
    assert guessed.guess == "ant" and guessed.probabilities["ant"] > 0.5
    assert (guessed.category, guessed.category_source) == ("ant", GUESSED)
    assert guessed.category_note == "ant (the classifier's guess)"

    picked = sketch_to_photo(teapot(), generator, classifier, category="teddy_bear")
    assert (picked.category, picked.category_source) == ("teddy_bear", PICKED)
    assert picked.category_note == "teddy bear (picked)"
    assert not np.array_equal(picked.photo, guessed.photo)  # the category changes the photo
    same = sketch_to_photo(teapot(), generator, None, category="ant")
    np.testing.assert_array_equal(same.photo, guessed.photo)  # guessed "ant" == picked "ant"
    assert same.probabilities == {} and same.category_source == PICKED

    # the guess is the most probable category the generator knows, matched by name: here the
    # classifier's second choice, which is neither the first nor the last the generator lists
    # (zebra 5 > teddy_bear 3 > alarm_clock 2 > ant 1)
    ranked = fixed_classifier(0, logits=[5.0, 3.0, 1.0, 2.0])
    zebra = sketch_to_photo(teapot(), generator, LoadedModel(VERSION, ranked, 32, classifier_names))
    assert list(zebra.probabilities) == ["zebra", "teddy_bear", "alarm_clock", "ant"]
    assert (zebra.guess, zebra.category, zebra.category_source) == ("zebra", "teddy_bear", GUESSED)
    np.testing.assert_array_equal(zebra.photo, picked.photo)  # drawn as teddy_bear

    with pytest.raises(CategoryNeeded, match="no sketch classifier is loaded"):
        sketch_to_photo(teapot(), generator)
    unrelated = LoadedModel(VERSION, fixed_classifier(0, classes=2), 32, ["cat", "dog"])
    with pytest.raises(CategoryNeeded, match="knows none of this model's categories"):
        sketch_to_photo(teapot(), generator, unrelated)
    with pytest.raises(ValueError, match="'zebra' is not one of this model's categories"):
        sketch_to_photo(teapot(), generator, classifier, category="zebra")


def test_plain_generator_ignores_a_category():
    plain = keras.Sequential(
        [keras.Input((32, 32, 3)), keras.layers.Conv2D(3, 1, activation="tanh")]
    )
    generator = LoadedModel(VERSION, plain, 32, list(CATEGORIES))
    assert not generator.class_aware
    result = sketch_to_photo(teapot(), generator, category="ant")
    assert result.category is None and result.category_note is None
    with pytest.raises(ValueError, match="'zebra' is not one of this model's categories"):
        sketch_to_photo(teapot(), generator, category="zebra")


def test_a_picked_category_may_be_written_as_the_demo_shows_it():
    generator = LoadedModel(VERSION, class_aware_generator(), 32, list(CATEGORIES))
    spaced = sketch_to_photo(teapot(), generator, category="teddy bear")
    underscored = sketch_to_photo(teapot(), generator, category="teddy_bear")
    assert (spaced.category, spaced.category_source) == ("teddy_bear", PICKED)
    assert np.array_equal(spaced.photo, underscored.photo)
