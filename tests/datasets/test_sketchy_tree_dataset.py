"""SketchyTreeDataset on real small trees: a synthetic one built by the project and, where
present, the real Sketchy sample (../shared/sketchy_sample)."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from kedro.io.core import DatasetError

from sketch_to_photo.data.segmentation.files import read_rgb
from sketch_to_photo.data.sketchy import layout
from sketch_to_photo.datasets import SketchyTree, SketchyTreeDataset

TX = layout.DEFAULT_AUGMENTATION


def _record(root: Path, source: str = "synthetic") -> dict:
    return {"source": source, "root": str(root), "seconds": 0.1, "details": {"skipped": False}}


def test_round_trip_saves_the_record_and_loads_the_tree(synthetic_tree, tmp_path):
    dataset = SketchyTreeDataset(filepath=str(tmp_path / "01_raw" / "sketchy_raw.json"))
    assert not dataset.exists()
    dataset.save(_record(synthetic_tree))
    assert json.loads((tmp_path / "01_raw" / "sketchy_raw.json").read_text()) == _record(
        synthetic_tree
    )
    assert [p.name for p in (tmp_path / "01_raw").iterdir()] == ["sketchy_raw.json"]
    tree = dataset.load()
    assert (tree.source, tree.root) == ("synthetic", str(synthetic_tree))
    assert str(synthetic_tree) in str(dataset)  # _describe names the root
    categories = tree.categories(TX)
    assert categories == sorted(
        p.name for p in (synthetic_tree / layout.SKETCH_ROOT / TX).iterdir()
    )
    assert tree.sketch_augmentations() == [TX] and tree.has_photos(TX)
    sketches = tree.sketches(TX, categories[0])
    files = sorted((synthetic_tree / layout.SKETCH_ROOT / TX / categories[0]).glob("*.png"))
    assert list(sketches) == [f.relative_to(synthetic_tree).as_posix() for f in files]
    image_id = next(iter(tree.photos(TX, categories[0])))
    np.testing.assert_array_equal(tree.image(image_id), read_rgb(synthetic_tree / image_id))
    assert tree.id_list(layout.TESTSET_FILE) and tree.id_list("no-such-list.txt") is None
    assert {"ImageNetID", "BBox_x"} <= set(tree.stats().columns)


def test_a_record_whose_root_holds_no_tree_is_refused_with_what_to_do(tmp_path):
    dataset = SketchyTreeDataset(filepath=str(tmp_path / "sketchy_raw.json"))
    (tmp_path / "half" / "256x256" / "photo").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"256x256/sketch/, info/ missing.*data_acquisition"):
        dataset.save(_record(tmp_path / "half"))
    assert not dataset.exists()  # nothing recorded
    with pytest.raises(DatasetError, match="kedro run --pipelines data_acquisition"):
        dataset.load()
    with pytest.raises(DatasetError, match="lacks \\['root'\\]"):
        dataset.save({"source": "local"})


def test_a_tree_removed_after_it_was_recorded_is_explained(writable_synthetic_tree, tmp_path):
    dataset = SketchyTreeDataset(filepath=str(tmp_path / "sketchy_raw.json"))
    dataset.save(_record(writable_synthetic_tree))
    (writable_synthetic_tree / layout.INFO_ROOT / layout.TESTSET_FILE).unlink()
    (writable_synthetic_tree / layout.INFO_ROOT).rename(writable_synthetic_tree / "moved")
    with pytest.raises(DatasetError, match="info/ missing"):
        dataset.load()


def test_loaders_decode_only_when_called(synthetic_tree, monkeypatch):
    decoded = []
    monkeypatch.setattr(
        "sketch_to_photo.datasets.sketchy_tree_dataset.read_rgb",
        lambda path: decoded.append(path) or np.zeros((2, 2, 3), np.uint8),
    )
    tree = SketchyTree(synthetic_tree, source="synthetic")
    listed = {
        image_id: load
        for category in tree.categories(TX)
        for image_id, load in {**tree.sketches(TX, category), **tree.photos(TX, category)}.items()
    }
    assert len(listed) > 20 and decoded == []  # listing thousands must not decode
    first = next(iter(listed))
    listed[first]()
    assert decoded == [str(synthetic_tree / first)]


def test_tree_and_loaders_pickle_for_worker_processes(synthetic_tree):
    tree = SketchyTree(synthetic_tree, source="synthetic")
    category = tree.categories(TX)[0]
    image_id = next(iter(tree.photos(TX, category)))
    copy = pickle.loads(pickle.dumps(tree))
    np.testing.assert_array_equal(copy.image(image_id), tree.image(image_id))
    load = pickle.loads(pickle.dumps(tree.loader(image_id)))
    np.testing.assert_array_equal(load(), tree.image(image_id))
    assert pickle.loads(pickle.dumps(tree.loader(f"{layout.PHOTO_ROOT}/{TX}/x/none.jpg")))() is None


@pytest.mark.parametrize("kind", ["sketches", "photos"])
def test_truncated_or_missing_images_are_none_never_a_partial_image(writable_synthetic_tree, kind):
    tree = SketchyTree(writable_synthetic_tree, source="synthetic")
    image_id = next(iter(getattr(tree, kind)(TX, tree.categories(TX)[0])))
    file = writable_synthetic_tree / image_id
    assert tree.image(image_id) is not None
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 3])
    assert tree.image(image_id) is None
    assert tree.image(image_id.replace(".", "-gone.")) is None
    with pytest.raises(ValueError, match="not an image id"):
        tree.image(f"../{image_id}")


def test_version_changes_with_the_content_not_the_file_time(writable_synthetic_tree):
    tree = SketchyTree(writable_synthetic_tree, source="synthetic")
    image_id = next(iter(tree.sketches(TX, tree.categories(TX)[0])))
    file = writable_synthetic_tree / image_id
    before = tree.version(image_id)
    # a tree copied or provisioned again: new times, same bytes (resumed work stays valid)
    content, stamp = file.read_bytes(), file.stat().st_mtime_ns
    file.unlink()
    file.write_bytes(content)
    os.utime(file, ns=(stamp + 10**12, stamp + 10**12))
    assert tree.version(image_id) == before
    file.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # one bit of the content
    assert tree.version(image_id) != before
    assert tree.version("256x256/photo/none.jpg").endswith("|missing")


@pytest.mark.sample
def test_the_real_sample_loads_through_the_dataset(sketchy_sample, tmp_path):
    dataset = SketchyTreeDataset(filepath=str(tmp_path / "sketchy_raw.json"))
    dataset.save(_record(sketchy_sample.resolve(), source="local"))
    tree = dataset.load()
    category = tree.categories(TX)[0]
    sketches, photos = tree.sketches(TX, category), tree.photos(TX, category)
    assert sketches and photos
    sketch_id = next(iter(sketches))
    photo_id = f"{layout.PHOTO_ROOT}/{TX}/{category}/"
    photo_id += f"{layout.photo_id_of(Path(sketch_id).stem)}{layout.PHOTO_SUFFIX}"
    assert photo_id in photos
    sketch, photo = sketches[sketch_id](), tree.image(photo_id)
    assert sketch.dtype == photo.dtype == np.uint8 and sketch.shape[2] == photo.shape[2] == 3
    assert tree.id_list("invalid-error.txt")
