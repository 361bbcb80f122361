"""sketch_to_photo in the browser: `streamlit run streamlit_app.py`.

Until the training issue lands, this page shows what the data pipelines produced (pair counts
per category and split, and the segmentation grid), read through the project's Kedro catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

PROJECT_PATH = Path(__file__).resolve().parent


@st.cache_resource(show_spinner="Loading the project's catalog...")
def load_catalog(project_path: Path) -> Any:
    bootstrap_project(project_path)
    with KedroSession.create(project_path=project_path) as session:
        return session.load_context().catalog


def counts_table(manifest: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {"category": category, "split": split, **entry}
        for category, per_split in manifest["counts"].items()
        for split, entry in per_split.items()
    ]
    return pd.DataFrame(rows).set_index(["category", "split"])


def main() -> None:
    st.set_page_config(page_title="sketch_to_photo", page_icon="✏️", layout="wide")
    st.title("sketch_to_photo")
    st.write(
        "Turn a hand-drawn sketch into a photo with a pix2pix GAN. The drawing demo arrives with "
        "the trained model; for now, here is the training data the pipelines prepared."
    )
    catalog = load_catalog(PROJECT_PATH)
    if not catalog.exists("pairs_manifest"):
        st.info(
            "No training pairs yet. Run `kedro run` in the project folder, then reload this page."
        )
        return
    manifest = catalog.load("pairs_manifest")
    totals = manifest["totals"]
    st.subheader(f"{totals['pairs']} sketch/photo pairs from the {manifest['source']} source")
    columns = st.columns(4)
    columns[0].metric("sketches seen", totals["sketches_seen"])
    columns[1].metric("dropped as invalid", totals["dropped_invalid"])
    columns[2].metric("dropped as unreadable", totals["dropped_unreadable"])
    columns[3].metric("pairs", totals["pairs"])
    st.dataframe(counts_table(manifest))
    if catalog.exists("segmentation_grid@image"):
        st.subheader("Segmentation: photo | mask | cut-out")
        st.image(catalog.load("segmentation_grid@image"))


main()
