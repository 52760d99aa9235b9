"""Final metrics of two runs side by side: values, absolute and relative difference, verdict."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlproj.commands.runs.table import fmt_number


@dataclass(frozen=True)
class MetricRow:
    key: str
    original: float | None
    new: float | None
    abs_diff: float | None
    rel_diff: float | None
    agrees: bool


def compare_metrics(
    original: Mapping[str, float], new: Mapping[str, float], rtol: float = 0.0, atol: float = 0.0
) -> list[MetricRow]:
    """Every metric of either run; it agrees when |new - original| <= atol + rtol * |original|
    (with both tolerances 0: bit-identical). NaN agrees with NaN; a missing value never agrees."""
    rows = []
    for key in sorted(set(original) | set(new)):
        a, b = original.get(key), new.get(key)
        if a is None or b is None:
            rows.append(MetricRow(key, a, b, None, None, False))
            continue
        if math.isnan(a) or math.isnan(b):
            rows.append(MetricRow(key, a, b, None, None, math.isnan(a) and math.isnan(b)))
            continue
        diff = abs(b - a) if a != b else 0.0
        rel = diff / abs(a) if a else (0.0 if diff == 0 else math.inf)
        agrees = a == b or diff <= atol + rtol * abs(a)
        rows.append(MetricRow(key, a, b, diff, rel, agrees))
    return rows


def render_rows(rows: list[MetricRow], names: tuple[str, str] = ("original", "new")) -> str:
    if not rows:
        return "no metrics were recorded by either run"
    header = ["metric", names[0], names[1], "abs diff", "rel diff", "verdict"]
    table = [header]
    for row in rows:
        table.append(
            [
                row.key,
                _exact(row.original),
                _exact(row.new),
                fmt_number(row.abs_diff),
                fmt_number(row.rel_diff),
                "ok" if row.agrees else "DIFFERS",
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip() for line in table
    )


def _exact(value: float | None) -> str:
    """The shortest text that reads back as the same float: equal-looking means equal."""
    return "-" if value is None else repr(value)


def rows_json(rows: list[MetricRow]) -> list[dict[str, Any]]:
    return [
        {
            "key": r.key,
            "original": r.original,
            "new": r.new,
            "abs_diff": r.abs_diff,
            "rel_diff": r.rel_diff,
            "agrees": r.agrees,
        }
        for r in rows
    ]
