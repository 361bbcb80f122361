"""Facts about the layout of the official Sketchy archives, in one place.

``rendered_256x256.7z`` extracts to ``256x256/{photo,sketch}/<tx>/<category>/...`` and
``info-06-04.7z`` to ``info/``. A sketch file ``<ImageNetID>-<k>.png`` belongs to the photo
``<ImageNetID>.jpg``: the photo id is the sketch id cut at the LAST ``-``.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_AUGMENTATION = "tx_000000000000"

PHOTO_ROOT = Path("256x256") / "photo"
SKETCH_ROOT = Path("256x256") / "sketch"
INFO_ROOT = Path("info")

PHOTO_SUFFIX = ".jpg"
SKETCH_SUFFIX = ".png"

INVALID_LIST_FILES: dict[str, str] = {
    "error": "invalid-error.txt",
    "ambiguous": "invalid-ambiguous.txt",
    "pose": "invalid-pose.txt",
    "context": "invalid-context.txt",
}
TESTSET_FILE = "testset.txt"
STATS_FILE = "stats.csv"


def photo_id_of(sketch_id: str) -> str:
    """The photo a sketch was drawn from: ``n02691156_58-1`` -> ``n02691156_58``.

    Cut at the last ``-`` (never match by prefix: ``n02691156_58`` is a prefix of
    ``n02691156_580-1``).
    """
    photo_id, sep, number = sketch_id.rpartition("-")
    if not sep or not photo_id or not number.isdigit():
        raise ValueError(f"{sketch_id!r} is not a Sketchy sketch id (<ImageNetID>-<k>)")
    return photo_id


def stats_category_name(folder_name: str) -> str:
    """``stats.csv`` spells categories with spaces where folders have underscores."""
    return folder_name.replace("_", " ")


def missing_folders(root: Path) -> list[Path]:
    """The folders of the extracted archives (photo, sketch, info/) that ``root`` lacks."""
    return [
        folder for folder in (PHOTO_ROOT, SKETCH_ROOT, INFO_ROOT) if not (root / folder).is_dir()
    ]


def is_sketchy_tree(root: Path) -> bool:
    """True when ``root`` holds the extracted archives (photo and sketch folders and info/)."""
    return not missing_folders(root)
