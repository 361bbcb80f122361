"""Node-level tests of data_acquisition: each source, and the errors a user can hit."""

from __future__ import annotations

import json
from pathlib import Path

import py7zr
import pytest

from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.data.sketchy.archives import MARKER_NAME
from sketch_to_photo.data.sketchy.download import DownloadError
from sketch_to_photo.pipelines.data_acquisition.nodes import acquire_sketchy

SMALL = {
    "photos_per_category": 2,
    "sketches_per_photo": [3, 3],
    "image_size": 64,
    "testset_per_category": 1,
}


def _params(tmp_path: Path, **overrides) -> dict:
    return {
        "source": "synthetic",
        "raw_dir": str(tmp_path / "raw"),
        "synthetic": SMALL,
        "sketchy": {"timeout_s": 5, "archives": []},
        "local": {"path": None},
        **overrides,
    }


def test_synthetic_is_generated_once_and_regenerated_when_settings_change(tmp_path):
    first = acquire_sketchy(_params(tmp_path))
    root = Path(first["root"])
    assert first["source"] == "synthetic" and first["details"]["skipped"] is False
    assert layout.is_sketchy_tree(root) and root.is_absolute()
    photo = next((root / layout.PHOTO_ROOT).rglob("*.jpg"))
    stamp = photo.stat().st_mtime_ns
    again = acquire_sketchy(_params(tmp_path))
    assert again["details"]["skipped"] is True and photo.stat().st_mtime_ns == stamp
    changed = acquire_sketchy(_params(tmp_path, synthetic={**SMALL, "seed": 99}))
    assert changed["details"]["skipped"] is False
    assert json.loads((root / "synthetic.json").read_text())["seed"] == 99


def test_unknown_source_and_option_are_explained(tmp_path):
    with pytest.raises(ValueError, match="must be one of \\('synthetic', 'sketchy', 'local'\\)"):
        acquire_sketchy(_params(tmp_path, source="kaggle"))
    with pytest.raises(ValueError, match="Unknown acquisition.synthetic option"):
        acquire_sketchy(_params(tmp_path, synthetic={"photos": 3}))
    with pytest.raises(ValueError, match="airplane"):
        acquire_sketchy(_params(tmp_path, synthetic={**SMALL, "categories": ["airplane"]}))


def test_local_folder_is_used_in_place(synthetic_tree, tmp_path):
    record = acquire_sketchy(_params(tmp_path, source="local", local={"path": str(synthetic_tree)}))
    assert record["root"] == str(synthetic_tree.resolve())
    assert not (tmp_path / "raw").exists()  # nothing copied


def test_local_archive_is_extracted_with_a_marker(synthetic_tree, tmp_path):
    archive = tmp_path / "mine.7z"
    with py7zr.SevenZipFile(archive, "w") as packed:
        for member in ("256x256", "info"):
            packed.writeall(synthetic_tree / member, arcname=member)
    record = acquire_sketchy(_params(tmp_path, source="local", local={"path": str(archive)}))
    root = Path(record["root"])
    assert root == (tmp_path / "raw" / "sketchy").resolve()
    assert layout.is_sketchy_tree(root) and (root / MARKER_NAME).is_file()
    assert (
        acquire_sketchy(_params(tmp_path, source="local", local={"path": str(archive)}))["details"][
            "skipped"
        ]
        is True
    )


def test_local_path_that_does_not_exist(tmp_path):
    with pytest.raises(DownloadError, match="does not exist"):
        acquire_sketchy(_params(tmp_path, source="local", local={"path": str(tmp_path / "nope")}))
