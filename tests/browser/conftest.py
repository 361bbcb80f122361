"""Browser tests need Debian's Chromium and Playwright; .ci/run installs both and sets
REQUIRE_BROWSER=1 so that there they fail instead of skipping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.drive import chromium_missing


@pytest.fixture(scope="session", autouse=True)
def chromium_available() -> None:
    reason = chromium_missing()
    if reason is not None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    """Where screenshots go: $SCREENSHOT_DIR when set (kept), else the test's temporary folder."""
    directory = Path(os.environ.get("SCREENSHOT_DIR", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
