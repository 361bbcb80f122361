"""The small Sketchy archives the download, extraction and acquisition tests share."""

from tests.data.sketchy.archives import archives  # noqa: F401  (fixture of the tests here)
