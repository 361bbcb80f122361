"""Shared fixtures: small real datasets built by the project, and the real Sketchy sample."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from sketch_to_photo.sketchy.synthetic import SyntheticConfig, generate_synthetic_sketchy
from tests.archive_server import server  # noqa: F401  (fixture shared by download tests)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SKETCHY_SAMPLE = PROJECT_ROOT.parent / "shared" / "sketchy_sample"
SMALL_SYNTHETIC = SyntheticConfig(
    photos_per_category=5, sketches_per_photo=(3, 4), image_size=96, seed=7
)


@pytest.fixture(scope="session")
def synthetic_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic Sketchy tree (read-only: copy it before changing anything)."""
    root = tmp_path_factory.mktemp("synthetic") / "sketchy"
    generate_synthetic_sketchy(root, SMALL_SYNTHETIC, progress=False)
    return root


@pytest.fixture
def writable_synthetic_tree(synthetic_tree: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "sketchy"
    shutil.copytree(synthetic_tree, copy)
    return copy


@pytest.fixture(scope="session")
def sketchy_sample() -> Path:
    """The real Sketchy files in ../shared/sketchy_sample; tests using it skip without it."""
    if not (SKETCHY_SAMPLE / "256x256").is_dir():
        pytest.skip(f"real Sketchy sample not found at {SKETCHY_SAMPLE}")
    return SKETCHY_SAMPLE


# Kedro's telemetry asks for consent on first use and needs the network: off in tests.
os.environ.setdefault("DO_NOT_TRACK", "1")
