"""The benchmark's rows and how they print."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    """One measured case: e.g. section "training", case "reference fp32 b1"."""

    section: str
    case: str
    values: dict[str, float] = field(default_factory=dict)
    note: str = ""


def _format(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def table(rows: list[Row]) -> str:
    """A plain-text table, one line per row, values as ``name=value``."""
    section_width = max((len(r.section) for r in rows), default=7)
    case_width = max((len(r.case) for r in rows), default=4)
    lines = [f"{'section':<{section_width}}  {'case':<{case_width}}  figures"]
    for row in rows:
        figures = "  ".join(f"{name}={_format(v)}" for name, v in row.values.items())
        note = f"  ({row.note})" if row.note else ""
        lines.append(f"{row.section:<{section_width}}  {row.case:<{case_width}}  {figures}{note}")
    return "\n".join(lines)


def to_json(rows: list[Row], machine: dict[str, str]) -> str:
    return json.dumps({"machine": machine, "rows": [asdict(r) for r in rows]}, indent=2)
