"""What docs/benchmarks.md says each section measured: the defaults must reproduce it.

The figures in the document were measured with the sections' default arguments; a test that
compares a default with a literal copied from the code would pass after a change of both, and
the document would then describe a measurement the command no longer makes.
"""

from __future__ import annotations

import re

from tests.conftest import PROJECT_ROOT

BENCHMARKS_MD = PROJECT_ROOT / "docs" / "benchmarks.md"


def benchmarks_md() -> str:
    return BENCHMARKS_MD.read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The first heading that starts with ``heading`` and the text under it, up to the next
    heading of the same or a higher level."""
    text = benchmarks_md()
    match = re.search(rf"^(#+) {re.escape(heading)}.*$", text, re.MULTILINE)
    assert match, f"no heading {heading!r} in {BENCHMARKS_MD}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return match.group(0) + rest[: end.start() if end else len(rest)]


def one(pattern: str, text: str) -> re.Match[str]:
    """The single match of ``pattern`` in ``text`` (several would make the test ambiguous)."""
    matches = list(re.finditer(pattern, text))
    assert len(matches) == 1, f"{pattern!r} matches {len(matches)} times in {BENCHMARKS_MD}"
    return matches[0]
