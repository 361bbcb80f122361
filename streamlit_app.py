"""sketch_to_photo in the browser: ``streamlit run streamlit_app.py`` in the project folder.

Draw a sketch, upload one, or pick one from the test split; the registered pix2pix generator
(MLflow alias ``champion`` unless another version is picked) turns it into a photo and the
registered sketch classifier guesses its category. The MLflow store is the one ``kedro run``
writes to, read from the project's ``conf/`` (``mlflow.yml``). The logic lives in
:mod:`sketch_to_photo.demo`; this file is only the page.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from streamlit_drawable_canvas import st_canvas

from sketch_to_photo.demo import (
    CLASSIFIER_NAME,
    GENERATOR_NAME,
    MAKE_MODELS_COMMAND,
    HeldOutPair,
    LoadedModel,
    MlflowStore,
    ModelVersion,
    canvas_sketch,
    enlarge,
    held_out_pairs,
    load_registered_model,
    png_bytes,
    project_mlflow_store,
    read_upload,
    registered_versions,
    sketch_to_photo,
)
from sketch_to_photo.inference import SketchInputError

PROJECT_PATH = Path(__file__).resolve().parent
CANVAS_SIZE = 320
DISPLAY_SIZE = 256
INPUTS = ("Draw", "Upload", "Test split")


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
def load_model(uri: str, _store: MlflowStore, _version: ModelVersion) -> LoadedModel:
    """Loaded once per registered version (``uri`` is the cache key)."""
    loaded = load_registered_model(_store, _version)
    size = loaded.image_size  # one warm-up call, so the timing shown is the model's, not tracing
    loaded.model.predict_on_batch(np.zeros((1, size, size, 3), np.float32))
    return loaded


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
    st.sidebar.caption(f"MLflow store: `{store.tracking_uri}`")
    return generator, classifier


def sketch_from_canvas() -> np.ndarray | None:
    stroke = st.slider("Pen width", 2, 20, 6, key="pen")
    drawing = st_canvas(
        stroke_width=stroke, stroke_color="#000000", background_color="#FFFFFF",
        height=CANVAS_SIZE, width=CANVAS_SIZE, drawing_mode="freedraw",
        return_image_data=True, key="canvas",
    )  # fmt: skip
    sketch = canvas_sketch(drawing.image_data if drawing is not None else None)
    if sketch is None:
        st.info("Draw a sketch on the canvas (a car, a strawberry, a teapot, a teddy bear...).")
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


def show_result(
    sketch: np.ndarray, generator: LoadedModel, classifier: LoadedModel | None,
    real_photo: np.ndarray | None,
) -> None:  # fmt: skip
    try:
        result = sketch_to_photo(sketch, generator, classifier)
    except SketchInputError as exc:
        st.error(f"Cannot use this sketch: {exc}")
        return
    shown = [(result.sketch, "Sketch, as the model sees it"), (result.photo, "Generated photo")]
    if real_photo is not None:
        shown.append((real_photo, "Real photo"))
    for column, (image, caption) in zip(st.columns(len(shown)), shown, strict=True):
        column.image(enlarge(image, DISPLAY_SIZE), caption=caption, width="stretch")
    size = generator.image_size
    st.metric("Inference time", f"{result.generation_ms:.0f} ms", help=f"one {size}x{size} sketch")
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
    st.write("Draw or upload a sketch; a pix2pix GAN trained on Sketchy turns it into a photo.")
    _, store = load_project(str(PROJECT_PATH))
    generator_version, classifier_version = sidebar_models(store)
    if generator_version is None:
        st.warning(
            f"No registered `{GENERATOR_NAME}` model in the MLflow store `{store.tracking_uri}`. "
            f"Make one with `{MAKE_MODELS_COMMAND}` in `{PROJECT_PATH}` (about 8 minutes on 2 "
            "CPU cores), then reload this page."
        )
        return
    try:
        generator = load_model(generator_version.uri, store, generator_version)
        classifier = (
            load_model(classifier_version.uri, store, classifier_version)
            if classifier_version
            else None
        )
    except Exception as exc:  # noqa: BLE001  (any load failure is shown, never a traceback)
        st.error(
            f"Could not load {generator_version.uri}: {exc}. Its artifacts may have been deleted; "
            f"run `{MAKE_MODELS_COMMAND}` to register a new version."
        )
        return
    input_column, output_column = st.columns([1, 1.4], gap="large")
    with input_column:
        source = st.radio("Sketch from", INPUTS, horizontal=True, key="input")
        real_photo = None
        if source == "Draw":
            sketch = sketch_from_canvas()
        elif source == "Upload":
            sketch = sketch_from_upload()
        else:
            sketch, real_photo = sketch_from_test_split()
    if sketch is not None:
        with output_column:
            show_result(sketch, generator, classifier, real_photo)


main()
