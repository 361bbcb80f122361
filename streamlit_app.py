"""sketch_to_photo in the browser: ``streamlit run streamlit_app.py`` in the project folder.

Draw a sketch, upload one, or pick one from the test split; the registered pix2pix generator
(MLflow alias ``champion`` unless another version is picked) turns it into a photo and the
registered sketch classifier guesses its category (a class-aware generator draws that category
unless the user picks another). The page shows the loaded model's card, read from the registry:
what it was trained on and how it scored. The MLflow store is the one ``kedro run`` writes to,
read from the project's ``conf/`` (``mlflow.yml``). The logic lives in
:mod:`sketch_to_photo.app.registered_models` (the store, its versions, loading one),
:mod:`sketch_to_photo.app.model_card` and :mod:`sketch_to_photo.app.demo` (the sketch
inputs, the ONNX Runtime twin, the display); this file is only the page.
"""

from __future__ import annotations

import gc
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from streamlit_drawable_canvas import st_canvas

from sketch_to_photo.app.demo import (
    HeldOutPair,
    canvas_sketch,
    enlarge,
    held_out_pairs,
    onnx_runtime_twin,
    read_upload,
)
from sketch_to_photo.app.model_card import ModelCard, list_names, model_card
from sketch_to_photo.app.registered_models import (
    CLASSIFIER_NAME,
    GENERATOR_NAME,
    MAKE_MODELS_COMMAND,
    MlflowStore,
    ModelVersion,
    load_registered_model,
    project_mlflow_store,
    registered_versions,
)
from sketch_to_photo.prediction.photograph import (
    CategoryNeeded,
    LoadedModel,
    classify,
    display_name,
    guessed_category,
    sketch_to_photo,
)
from sketch_to_photo.prediction.preprocessing import SketchInputError, png_bytes

PROJECT_PATH = Path(__file__).resolve().parent
CANVAS_SIZE = 320
DISPLAY_SIZE = 288  # on-screen pixels of each picture: the shape must be visible
INPUTS = ("Draw", "Upload", "Test split")
GUESS = "__classifier_guess__"  # the category picker's "follow the classifier" option
HINT_CATEGORIES = 20  # the canvas hint names at most this many categories
# under the package's logger, which kedro's project logging sets to INFO (``__main__`` is not)
logger = logging.getLogger("sketch_to_photo.streamlit_app")


@st.cache_resource(show_spinner="Reading the project's configuration...")
def load_project(project_path: str) -> tuple[Any, MlflowStore]:
    """The project's catalog and MLflow store, as ``kedro run`` sees them."""
    bootstrap_project(Path(project_path))
    with KedroSession.create(project_path=project_path) as session:
        context = session.load_context()
        return context.catalog, project_mlflow_store(context)


@st.cache_data(ttl=30, show_spinner=False)
def list_versions(tracking_uri: str, registry_uri: str, name: str) -> list[ModelVersion]:
    return registered_versions(MlflowStore(tracking_uri, registry_uri), name)


@st.cache_resource(show_spinner="Loading the model from MLflow...", max_entries=6)
def load_model(
    uri: str, tracking_uri: str, run_id: str, _store: MlflowStore, _version: ModelVersion
) -> LoadedModel:
    """Loaded once per registered version: ``uri`` alone could name another store's model, or
    an earlier one deleted and registered again, hence the store and run in the key."""
    logger.info("Loading %s v%s from the registry", _version.name, _version.version)
    loaded = onnx_runtime_twin(load_registered_model(_store, _version))
    loaded.warm_up()  # so the timing shown is the model's, not the first call's set-up
    freeze_long_lived_objects()
    return loaded


def freeze_long_lived_objects() -> None:
    """Keep what lives for the whole process out of the garbage collector's full passes.

    Streamlit runs two full collections after every rerun, and the canvas reruns the page on
    each stroke: with TensorFlow, Kedro and MLflow loaded (~8x10^5 objects), each took 0.4 s
    with every session's thread blocked, and 8 people drawing waited 90 s for a photo.
    Frozen objects are skipped by the collector.
    """
    gc.collect()  # garbage would stay for good once frozen
    gc.freeze()


@st.cache_resource(show_spinner=False)
def freeze_after_first_result() -> bool:
    """Once per process, after the first photo: the modules a result imports on first use
    (Altair for the chart, ~10^5 objects) are then loaded, and frozen too."""
    freeze_long_lived_objects()
    return True


@st.cache_data(ttl=60, show_spinner="Reading the test split...")
def load_held_out_pairs(project_path: str) -> list[HeldOutPair]:
    catalog, _ = load_project(project_path)
    if not catalog.exists("pair_shards"):
        return []
    return held_out_pairs(catalog.load("pair_shards"))


def pick_version(label: str, versions: list[ModelVersion], key: str) -> ModelVersion:
    by_label = {version.label: version for version in versions}  # string options: stable keys
    chosen = st.sidebar.selectbox(
        label, list(by_label), key=key,
        help="`champion` is the best version so far on the test metric; any version can be tried.",
    )  # fmt: skip
    return by_label[chosen]


def sidebar_models(store: MlflowStore) -> tuple[ModelVersion | None, ModelVersion | None]:
    st.sidebar.header("Models")
    generators = list_versions(store.tracking_uri, store.registry_uri, GENERATOR_NAME)
    classifiers = list_versions(store.tracking_uri, store.registry_uri, CLASSIFIER_NAME)
    generator = (
        pick_version(f"Generator ({GENERATOR_NAME})", generators, "generator")
        if generators
        else None
    )
    classifier = (
        pick_version(f"Classifier ({CLASSIFIER_NAME})", classifiers, "classifier")
        if classifiers
        else None
    )
    if classifier is not None and classifier.ineligible_reason:
        st.sidebar.warning(
            f"Classifier v{classifier.version} was ruled out of `champion`: "
            f"{classifier.ineligible_reason}. Its guesses may be no better than chance."
        )
    st.sidebar.caption(f"MLflow store: `{store.tracking_uri}`")
    return generator, classifier


def show_model_card(card: ModelCard) -> None:
    """The loaded generator's card: a one-line summary, the ineligibility warning, the rest in
    an expander."""
    st.markdown(card.summary())
    if card.version.ineligible_reason:
        st.warning(
            f"Generator v{card.version.version} was ruled out of `champion`: "
            f"{card.version.ineligible_reason}. It is shown for inspection; expect weak photos."
        )
    with st.expander("Model card (from the MLflow registry)"):
        st.markdown(card.table())


def canvas_hint(categories: list[str]) -> str:
    if not categories:
        return "Draw a sketch on the canvas (this model's categories were not recorded)."
    return (
        f"Draw a sketch on the canvas: this model was trained on "
        f"{list_names(categories, HINT_CATEGORIES)}."
    )


def sketch_from_canvas(categories: list[str]) -> np.ndarray | None:
    stroke = st.slider("Pen width", 2, 20, 6, key="pen")
    drawing = st_canvas(
        stroke_width=stroke, stroke_color="#000000", background_color="#FFFFFF",
        height=CANVAS_SIZE, width=CANVAS_SIZE, drawing_mode="freedraw",
        return_image_data=True, key="canvas",
    )  # fmt: skip
    sketch = canvas_sketch(drawing.image_data if drawing is not None else None)
    if sketch is None:
        st.info(canvas_hint(categories))
    return sketch


def sketch_from_upload() -> np.ndarray | None:
    upload = st.file_uploader(
        "Upload a sketch: dark strokes on a light background (PNG or JPEG)", key="upload"
    )
    if upload is None:
        return None
    try:
        return read_upload(upload.getvalue(), upload.name)
    except SketchInputError as exc:
        st.error(f"Cannot use this file: {exc}")
        return None


def sketch_from_test_split() -> tuple[np.ndarray | None, np.ndarray | None]:
    pairs = load_held_out_pairs(str(PROJECT_PATH))
    if not pairs:
        st.info(f"No test split yet: run `{MAKE_MODELS_COMMAND}` in the project folder.")
        return None, None
    by_label = {pair.label: pair for pair in pairs}
    pair = by_label[st.selectbox("Test sketch", list(by_label), key="test_pair")]
    return pair.sketch, pair.photo


def pick_category(
    sketch: np.ndarray, generator: LoadedModel, classifier: LoadedModel | None
) -> str | None:
    """The category a class-aware generator should draw: None follows the classifier's guess
    (or, without one, means nothing is picked yet)."""
    guess = None
    if classifier is not None:
        try:
            guess = guessed_category(classify(sketch, classifier), generator.categories)
        except SketchInputError:
            return None  # sketch_to_photo says what is wrong with the sketch
    options = ([GUESS] if guess else []) + generator.categories

    def label(option: str) -> str:
        if option == GUESS:
            return f"The classifier's guess: {display_name(guess or '')}"
        return display_name(option)

    chosen = st.selectbox(
        "Category to draw", options, index=0 if guess else None, format_func=label,
        key="category", placeholder="Pick the category",
        help="This model takes the category as an input: it draws the classifier's guess "
        "unless you pick another.",
    )  # fmt: skip
    return None if chosen in (None, GUESS) else chosen


def show_result(
    sketch: np.ndarray, generator: LoadedModel, classifier: LoadedModel | None,
    real_photo: np.ndarray | None,
) -> None:  # fmt: skip
    category = pick_category(sketch, generator, classifier) if generator.class_aware else None
    try:
        result = sketch_to_photo(sketch, generator, classifier, category)
    except SketchInputError as exc:
        st.error(f"Cannot use this sketch: {exc}")
        return
    except CategoryNeeded as exc:
        st.info(f"Pick the category to draw: {exc}")
        return
    generated = "Generated photo"
    if result.category_note:
        generated += f" of {result.category_note}"
    shown = [(result.sketch, "Sketch, as the model sees it"), (result.photo, generated)]
    if real_photo is not None:
        shown.append((real_photo, "Real photo"))
    # two per row, each at DISPLAY_SIZE: three in a row would shrink them below 256 px
    for start in range(0, len(shown), 2):
        row = shown[start : start + 2]
        for column, (image, caption) in zip(st.columns(2), row, strict=False):
            column.image(enlarge(image, DISPLAY_SIZE), caption=caption, width=DISPLAY_SIZE)
    size = generator.image_size
    runtime = generator.metadata.get("runtime", "Keras")
    st.metric(
        "Inference time",
        f"{result.generation_ms:.1f} ms" if result.generation_ms < 10 else f"{result.generation_ms:.0f} ms",
        help=f"one {size}x{size} sketch, {runtime} on this server's CPU",
    )  # fmt: skip
    if result.probabilities:
        best, probability = next(iter(result.probabilities.items()))
        st.subheader(f"Category guess: {best} ({probability:.0%})")
        st.bar_chart(
            pd.DataFrame({"probability": result.probabilities}).rename_axis("category"),
            horizontal=True,
        )
    st.download_button(
        "Download the photo (PNG)", png_bytes(result.photo), file_name="sketch_to_photo.png",
        mime="image/png", key="download",
    )  # fmt: skip


def main() -> None:
    st.set_page_config(page_title="sketch_to_photo", page_icon="✏️", layout="wide")
    os.chdir(PROJECT_PATH)  # the catalog's data/ paths and the conf resolvers are project-relative
    st.title("sketch_to_photo")
    st.write("Draw or upload a sketch; a pix2pix generator turns it into a photo.")
    _, store = load_project(str(PROJECT_PATH))
    generator_version, classifier_version = sidebar_models(store)
    if generator_version is None:
        st.warning(
            f"No registered `{GENERATOR_NAME}` model in the MLflow store `{store.tracking_uri}`. "
            f"Make one with `{MAKE_MODELS_COMMAND}` in `{PROJECT_PATH}` (about 10 minutes on 2 "
            "CPU cores), then reload this page."
        )
        return
    try:
        generator = load_model(
            generator_version.uri,
            store.tracking_uri,
            generator_version.run_id,
            store,
            generator_version,
        )
        classifier = (
            load_model(
                classifier_version.uri,
                store.tracking_uri,
                classifier_version.run_id,
                store,
                classifier_version,
            )
            if classifier_version
            else None
        )
    except Exception as exc:  # noqa: BLE001  (any load failure is shown, never a traceback)
        st.error(
            f"Could not load {generator_version.uri}: {exc}. Its artifacts may have been deleted; "
            f"run `{MAKE_MODELS_COMMAND}` to register a new version."
        )
        return
    show_model_card(model_card(generator))
    input_column, output_column = st.columns([1, 1.4], gap="large")
    with input_column:
        source = st.radio("Sketch from", INPUTS, horizontal=True, key="input")
        real_photo = None
        if source == "Draw":
            sketch = sketch_from_canvas(generator.categories)
        elif source == "Upload":
            sketch = sketch_from_upload()
        else:
            sketch, real_photo = sketch_from_test_split()
    if sketch is not None:
        with output_column:
            show_result(sketch, generator, classifier, real_photo)
        freeze_after_first_result()


main()
