"""The end of a sweep: the combinations ranked by a metric, and the best run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mlproj.errors import MlprojError
from mlproj.sweep.pool import ChildResult
from mlproj.tracking.base import Store


@dataclass(frozen=True)
class Row:
    index: int
    run_id: str | None
    status: str
    params: Mapping[str, str]
    value: float | None  # the metric's latest value; None without --metric or when not logged
    seconds: float


@dataclass(frozen=True)
class Summary:
    rows: tuple[Row, ...]  # ranked: best first (by index without a metric)
    metric: str | None
    maximize: bool
    best: Row | None  # the best FINISHED run with a value of the metric

    def to_json(self) -> dict[str, object]:
        return {
            "metric": self.metric,
            "goal": None if self.metric is None else ("maximize" if self.maximize else "minimize"),
            "best_run_id": self.best.run_id if self.best else None,
            "runs": [
                {
                    "index": r.index,
                    "run_id": r.run_id,
                    "status": r.status,
                    "params": dict(r.params),
                    "metric": r.value,
                    "seconds": round(r.seconds, 3),
                }
                for r in self.rows
            ],
        }


def summarize(
    store: Store, results: Sequence[ChildResult], metric: str | None, maximize: bool
) -> Summary:
    rows = [
        Row(r.index, r.run_id, r.status, r.params, _metric(store, r.run_id, metric), r.seconds)
        for r in results
    ]
    if metric is not None:
        # runs with a value first, best first; the rest in sweep order
        sign = -1.0 if maximize else 1.0
        rows.sort(key=lambda r: (r.value is None, sign * (r.value or 0.0), r.index))
    candidates = [r for r in rows if r.value is not None and r.status == "FINISHED"]
    best = candidates[0] if candidates else None
    return Summary(tuple(rows), metric, maximize, best)


def _metric(store: Store, run_id: str | None, metric: str | None) -> float | None:
    if metric is None or run_id is None:
        return None
    try:
        value = store.get_run(run_id).metrics.get(metric)
    except MlprojError:
        return None
    return None if value is None or math.isnan(value) else float(value)


def table(summary: Summary, names: Sequence[str]) -> str:
    """A plain-text table: one line per combination, best first."""
    header = ["#", "run", "status", *names]
    if summary.metric is not None:
        header.append(summary.metric)
    header.append("time")
    lines = [header]
    for row in summary.rows:
        cells = [str(row.index), row.run_id or "-", row.status]
        cells += [row.params.get(name, "") for name in names]
        if summary.metric is not None:
            cells.append("-" if row.value is None else f"{row.value:.6g}")
        cells.append(f"{row.seconds:.1f}s")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    return "\n".join(text) + "\n"
