"""The generated tree: exact real layout, sane images, determinism, safe replacement."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from sketch_to_photo.data.sketchy.layout import (
    DEFAULT_AUGMENTATION,
    INFO_ROOT,
    INVALID_LIST_FILES,
    PHOTO_ROOT,
    SKETCH_ROOT,
    STATS_FILE,
    TESTSET_FILE,
    photo_id_of,
    stats_category_name,
)
from sketch_to_photo.data.sketchy.synthetic import (
    SUPPORTED_CATEGORIES,
    SyntheticConfig,
    config_hash,
    generate_synthetic_sketchy,
)

CONFIG = SyntheticConfig(photos_per_category=8, sketches_per_photo=(2, 4), seed=3)
TINY = SyntheticConfig(photos_per_category=3, sketches_per_photo=(2, 2), image_size=64)
SIZE = CONFIG.image_size
STATS_HEADER = [
    "Category",
    "ImageNetID",
    "SketchID",
    "Error?",
    "Context?",
    "Ambiguous?",
    "WrongPose?",
    "BBox_x",
    "BBox_y",
    "BBox_width",
    "BBox_height",
    "Width",
    "Height",
]
SYNSETS = {
    "car_(sedan)": "n02958343",
    "strawberry": "n07745940",
    "teapot": "n04398044",
    "teddy_bear": "n04399382",
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("synthetic") / "sketchy"
    return root, generate_synthetic_sketchy(root, CONFIG, progress=False)


def photo_dir(root: Path, category: str) -> Path:
    return root / PHOTO_ROOT / DEFAULT_AUGMENTATION / category


def sketch_dir(root: Path, category: str) -> Path:
    return root / SKETCH_ROOT / DEFAULT_AUGMENTATION / category


def read_stats(root: Path) -> list[dict[str, str]]:
    with (root / INFO_ROOT / STATS_FILE).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def photo_boxes(root: Path) -> Iterator[tuple[str, np.ndarray, tuple[int, int, int, int]]]:
    """(category folder, BGR photo, stats bbox) once per photo."""
    folders = {stats_category_name(c): c for c in SUPPORTED_CATEGORIES}
    seen: set[str] = set()
    for row in read_stats(root):
        if row["ImageNetID"] in seen:
            continue
        seen.add(row["ImageNetID"])
        category = folders[row["Category"]]
        image = cv2.imread(str(photo_dir(root, category) / f"{row['ImageNetID']}.jpg"))
        x, y, w, h = (int(row[k]) for k in ("BBox_x", "BBox_y", "BBox_width", "BBox_height"))
        yield category, image, (x, y, w, h)


def non_background(image: np.ndarray) -> np.ndarray:
    """Pixels whose colour (16 levels per channel, +-1 level) never occurs on the border."""
    code = (image // 16).astype(np.int32)
    flat = code[..., 0] * 256 + code[..., 1] * 16 + code[..., 2]
    border = np.concatenate(
        [flat[:4].ravel(), flat[-4:].ravel(), flat[:, :4].ravel(), flat[:, -4:].ravel()]
    )
    seen = np.zeros(4096, bool)
    seen[border] = True
    cube = seen.reshape(16, 16, 16)
    near = cube.copy()
    for axis in range(3):
        near |= np.roll(cube, 1, axis) | np.roll(cube, -1, axis)
    return ~near.reshape(-1)[flat]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_layout_and_counts_match_the_real_archives(tree):
    root, summary = tree
    assert sorted(p.name for p in root.iterdir()) == ["256x256", "info", "synthetic.json"]
    assert sorted(p.name for p in (root / "256x256").iterdir()) == ["photo", "sketch"]
    assert sorted(p.name for p in (root / INFO_ROOT).iterdir()) == sorted(
        [*INVALID_LIST_FILES.values(), TESTSET_FILE, STATS_FILE]
    )
    n_photos = n_sketches = 0
    for category in CONFIG.categories:
        photos = sorted(photo_dir(root, category).iterdir())
        assert len(photos) == CONFIG.photos_per_category
        assert all(
            p.suffix == ".jpg" and p.stem.startswith(f"{SYNSETS[category]}_") for p in photos
        )
        numbers = [int(p.stem.split("_")[1]) for p in photos]
        assert len(set(numbers)) == len(numbers) and all(1 <= n <= 20000 for n in numbers)
        sketches = list(sketch_dir(root, category).iterdir())
        assert all(p.suffix == ".png" for p in sketches)
        for photo in photos:
            ks = sorted(
                int(p.stem.rpartition("-")[2])
                for p in sketches
                if photo_id_of(p.stem) == photo.stem
            )
            assert ks == list(range(1, len(ks) + 1))
            assert CONFIG.sketches_per_photo[0] <= len(ks) <= CONFIG.sketches_per_photo[1]
        n_photos += len(photos)
        n_sketches += len(sketches)
    assert summary["photos"] == n_photos == 4 * CONFIG.photos_per_category
    assert summary["sketches"] == n_sketches == len(read_stats(root))
    assert summary["categories"] == list(CONFIG.categories) and summary["seed"] == CONFIG.seed


def test_summary_file_records_config_and_hash(tree):
    root, summary = tree
    record = json.loads((root / "synthetic.json").read_text(encoding="utf-8"))
    assert {k: record[k] for k in summary} == summary
    canonical = json.dumps(record["config"], sort_keys=True, separators=(",", ":"))
    assert record["config_hash"] == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    assert record["config_hash"] == config_hash(CONFIG)
    assert record["config"]["sketches_per_photo"] == [2, 4]


def test_sketches_are_black_on_white_rgb_pngs(tree):
    root, _ = tree
    for category in CONFIG.categories:
        paths = sorted(sketch_dir(root, category).iterdir())
        # IHDR: bit depth 8, colour type 2 (RGB), like the real sketches.
        assert all(p.read_bytes()[24:26] == b"\x08\x02" for p in paths)
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            assert image.shape == (SIZE, SIZE, 3) and image.dtype == np.uint8
            assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()
            assert (image > 200).all(axis=2).mean() > 0.8
            assert (image < 100).all(axis=2).sum() > 150


def test_sketches_of_a_photo_differ_and_sit_where_the_object_is(tree):
    root, _ = tree
    for row in read_stats(root):
        folder = {stats_category_name(c): c for c in SUPPORTED_CATEGORIES}[row["Category"]]
        path = sketch_dir(root, folder) / f"{row['ImageNetID']}-{row['SketchID']}.png"
        dark = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) < 128
        x, y, w, h = (int(row[k]) for k in ("BBox_x", "BBox_y", "BBox_width", "BBox_height"))
        near = np.zeros_like(dark)
        near[max(0, y - h // 4) : y + h + h // 4, max(0, x - w // 4) : x + w + w // 4] = True
        assert (dark & near).sum() > 0.95 * dark.sum()
    for category in CONFIG.categories:
        by_photo: dict[str, list[bytes]] = {}
        for path in sketch_dir(root, category).iterdir():
            by_photo.setdefault(photo_id_of(path.stem), []).append(path.read_bytes())
        assert all(len(set(files)) == len(files) for files in by_photo.values())


def test_photos_are_rgb_jpegs_with_non_white_backgrounds(tree):
    root, _ = tree
    for category in CONFIG.categories:
        for path in photo_dir(root, category).iterdir():
            assert path.read_bytes()[:3] == b"\xff\xd8\xff"
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            assert image.shape == (SIZE, SIZE, 3)
            border = np.concatenate(
                [image[:3], image[-3:], image[:, :3].swapaxes(0, 1), image[:, -3:].swapaxes(0, 1)]
            )
            assert border.mean() < 235 and (border < 250).any(axis=-1).mean() > 0.9
            assert np.abs(image.astype(int)[..., 0] - image[..., 2]).mean() > 2  # not greyscale


def test_stats_rows_flags_and_bboxes(tree):
    root, _ = tree
    rows = read_stats(root)
    with (root / INFO_ROOT / STATS_FILE).open(encoding="utf-8") as handle:
        assert handle.readline().rstrip("\n").split(",") == STATS_HEADER
    lists = {name: set(read_lines(root / INFO_ROOT / f)) for name, f in INVALID_LIST_FILES.items()}
    columns = {
        "error": "Error?",
        "context": "Context?",
        "ambiguous": "Ambiguous?",
        "pose": "WrongPose?",
    }
    assert {r["Category"] for r in rows} == {stats_category_name(c) for c in CONFIG.categories}
    assert "car (sedan)" in {r["Category"] for r in rows}
    for row in rows:
        sketch_id = f"{row['ImageNetID']}-{row['SketchID']}"
        for name, column in columns.items():
            assert row[column] == ("1" if sketch_id in lists[name] else "0")
        x, y, w, h = (int(row[k]) for k in ("BBox_x", "BBox_y", "BBox_width", "BBox_height"))
        assert (int(row["Width"]), int(row["Height"])) == (SIZE, SIZE)
        assert 0 <= x and 0 <= y and x + w <= SIZE and y + h <= SIZE
        assert 0.12 < w * h / SIZE**2 < 0.7  # the object covers roughly 20-60% of the photo


def test_bbox_contains_most_of_the_non_background_colour(tree):
    root, _ = tree
    shares = []
    for _, image, (x, y, w, h) in photo_boxes(root):
        odd = non_background(image)
        inside = np.zeros_like(odd)
        inside[y : y + h, x : x + w] = True
        shares.append((odd & inside).sum() / max(odd.sum(), 1))
        assert odd[y : y + h, x : x + w].mean() > 0.1  # the box holds an object, not background
    assert np.median(shares) > 0.85 and np.mean(shares) > 0.75


def test_categories_differ_in_colour_and_shape(tree):
    root, _ = tree
    redness: dict[str, list[float]] = {}
    aspect: dict[str, list[float]] = {}
    for category, image, (x, y, w, h) in photo_boxes(root):
        hsv = cv2.cvtColor(image[y : y + h, x : x + w], cv2.COLOR_BGR2HSV)
        hue, sat = hsv[non_background(image)[y : y + h, x : x + w]].T[:2]
        red = ((hue < 8) | (hue > 172)) & (sat > 120)
        redness.setdefault(category, []).append(float(red.mean()))
        aspect.setdefault(category, []).append(w / h)
    assert min(redness["strawberry"]) > 0.3 > max(redness["teddy_bear"])
    assert np.median(redness["strawberry"]) > 3 * np.median(redness["teddy_bear"]) + 0.2
    assert min(aspect["car_(sedan)"]) > 1.3 and max(aspect["teddy_bear"]) < 1.0


def test_invalid_lists_and_testset_refer_to_existing_files(tree):
    root, _ = tree
    info = root / INFO_ROOT
    lists = {name: read_lines(info / f) for name, f in INVALID_LIST_FILES.items()}
    sketches = {p.stem: p.parent.name for p in (root / SKETCH_ROOT).rglob("*.png")}
    for name, ids in lists.items():
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert all(i in sketches and "." not in i and "/" not in i for i in ids)
        per_category = getattr(CONFIG, f"invalid_{name}_per_category")
        for category in CONFIG.categories:
            assert sum(sketches[i] == category for i in ids) == per_category
    assert not set(lists["error"]) & set(lists["ambiguous"])
    test = read_lines(info / TESTSET_FILE)
    assert test == sorted(test) and len(test) == 4 * CONFIG.testset_per_category
    for line in test:
        category, _, name = line.partition("/")
        assert name.endswith(".jpg") and (photo_dir(root, category) / name).is_file()


def test_every_sketch_pairs_with_the_photo_before_its_last_dash(tree):
    root, _ = tree
    for category in CONFIG.categories:
        photos = {p.stem for p in photo_dir(root, category).iterdir()}
        sketches = list(sketch_dir(root, category).iterdir())
        assert all(photo_id_of(p.stem) in photos for p in sketches)
        # Every photo has sketches, as in the full archive.
        assert {photo_id_of(p.stem) for p in sketches} == photos


def test_each_category_has_a_photo_id_that_prefixes_another(tree):
    root, _ = tree
    for category in CONFIG.categories:
        ids = sorted(p.stem for p in photo_dir(root, category).iterdir())
        pairs = [(a, b) for a in ids for b in ids if a != b and b.startswith(a)]
        assert pairs, ids
        short, long = pairs[0]
        # Pairing by prefix would steal the longer photo's sketches.
        stolen = [
            p
            for p in sketch_dir(root, category).glob(f"{short}*.png")
            if photo_id_of(p.stem) == long
        ]
        assert stolen


def test_same_config_gives_identical_bytes_and_another_seed_differs(tmp_path):
    first = generate_synthetic_sketchy(tmp_path / "a", TINY, progress=False)
    second = generate_synthetic_sketchy(tmp_path / "b", TINY, progress=False)
    assert first == second
    assert tree_bytes(tmp_path / "a") == tree_bytes(tmp_path / "b")
    other = SyntheticConfig(**{**TINY.__dict__, "seed": 1})
    third = generate_synthetic_sketchy(tmp_path / "c", other, progress=False)
    assert third["config_hash"] != first["config_hash"]
    photos_a = sorted(p.read_bytes() for p in (tmp_path / "a" / PHOTO_ROOT).rglob("*.jpg"))
    photos_c = sorted(p.read_bytes() for p in (tmp_path / "c" / PHOTO_ROOT).rglob("*.jpg"))
    assert not set(photos_a) & set(photos_c)
    ids_a = {p.name for p in (tmp_path / "a" / PHOTO_ROOT).rglob("*.jpg")}
    assert ids_a != {p.name for p in (tmp_path / "c" / PHOTO_ROOT).rglob("*.jpg")}


def test_a_category_looks_the_same_whatever_else_is_generated(tmp_path):
    alone = SyntheticConfig(**{**TINY.__dict__, "categories": ("teapot",)})
    generate_synthetic_sketchy(tmp_path / "all", TINY, progress=False)
    generate_synthetic_sketchy(tmp_path / "one", alone, progress=False)
    teapot = Path("256x256") / "photo" / DEFAULT_AUGMENTATION / "teapot"
    assert tree_bytes(tmp_path / "all" / teapot) == tree_bytes(tmp_path / "one" / teapot)


def test_regenerating_replaces_the_tree(tmp_path):
    root = tmp_path / "sketchy"
    generate_synthetic_sketchy(root, TINY, progress=False)
    stale = root / "256x256" / "photo" / DEFAULT_AUGMENTATION / "teapot" / "n04398044_1.jpg"
    stale.write_bytes(b"old")
    smaller = SyntheticConfig(
        **{**TINY.__dict__, "categories": ("strawberry",), "photos_per_category": 2}
    )
    summary = generate_synthetic_sketchy(root, smaller, progress=False)
    assert not stale.exists() and not (root / PHOTO_ROOT / DEFAULT_AUGMENTATION / "teapot").exists()
    assert len(list((root / PHOTO_ROOT).rglob("*.jpg"))) == summary["photos"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sketchy"]  # no temporary leftovers


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    root = tmp_path / "real_sketchy"
    (root / "info").mkdir(parents=True)
    (root / "info" / "stats.csv").write_text("precious")
    with pytest.raises(FileExistsError, match="not a synthetic Sketchy dataset"):
        generate_synthetic_sketchy(root, TINY, progress=False)
    assert (root / "info" / "stats.csv").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert generate_synthetic_sketchy(empty, TINY, progress=False)["photos"] == 12


def test_default_config_size(tmp_path):
    summary = generate_synthetic_sketchy(tmp_path / "default", progress=False)
    assert summary["photos"] == 80 and 80 * 3 <= summary["sketches"] <= 80 * 6
    stats = read_stats(tmp_path / "default")
    assert len(stats) == summary["sketches"]
    for name in INVALID_LIST_FILES:
        assert len(read_lines(tmp_path / "default" / INFO_ROOT / INVALID_LIST_FILES[name])) == 4
