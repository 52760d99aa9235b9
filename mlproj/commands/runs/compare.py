"""`mlproj runs compare`: params and metric summaries of several runs side by side."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlproj.commands.runs.listing import SHORT_ID
from mlproj.commands.runs.table import Style, fmt_duration, fmt_number, fmt_text, render
from mlproj.errors import UsageError
from mlproj.tracking import lookup
from mlproj.tracking.base import Run, Store


@dataclass(frozen=True)
class MetricSummary:
    latest: float
    min: float
    max: float


@dataclass(frozen=True)
class Comparison:
    runs: list[Run]
    params: dict[str, list[str | None]]  # key -> value per run (None: not logged)
    metrics: dict[str, list[MetricSummary | None]]
    differing: frozenset[str]  # params whose values are not all the same


def _summary(store: Store, run: Run, key: str) -> MetricSummary | None:
    if key not in run.metrics:
        return None
    values = [m.value for m in store.metric_history(run.info.run_id, key)]
    finite = [v for v in values if not math.isnan(v)] or [run.metrics[key]]
    return MetricSummary(run.metrics[key], min(finite), max(finite))


def compare_runs(store: Store, run_refs: Sequence[str]) -> Comparison:
    if len(run_refs) < 2:
        raise UsageError("compare needs at least two runs")
    runs = [lookup.find_run(store, ref) for ref in run_refs]
    param_keys = sorted({k for r in runs for k in r.params})
    params = {k: [r.params.get(k) for r in runs] for k in param_keys}
    metric_keys = sorted({k for r in runs for k in r.metrics})
    metrics = {k: [_summary(store, r, k) for r in runs] for k in metric_keys}
    differing = frozenset(k for k, values in params.items() if len(set(values)) > 1)
    return Comparison(runs, params, metrics, differing)


def comparison_dict(comparison: Comparison) -> dict[str, Any]:
    ids = [r.info.run_id for r in comparison.runs]

    def per_run(values: Sequence[Any]) -> dict[str, Any]:
        return dict(zip(ids, values, strict=True))

    return {
        "runs": [
            {
                "run_id": r.info.run_id,
                "run_name": r.info.run_name,
                "status": r.info.status,
                "tags": dict(r.tags),
            }
            for r in comparison.runs
        ],
        "params": {k: per_run(v) for k, v in comparison.params.items()},
        "differing_params": sorted(comparison.differing),
        "metrics": {
            k: per_run([dataclasses.asdict(s) if s else None for s in v])
            for k, v in comparison.metrics.items()
        },
    }


# (row label, tag, characters shown): what makes two runs of one project differ beyond params
_SOURCE_ROWS = (
    ("commit", "mlflow.source.git.commit", 12),
    ("dirty", "mlproj.git.dirty", 5),
    ("env", "mlproj.env.lock_sha256", 12),
    ("env key", "mlproj.env.key", 12),
    ("python", "mlproj.python.version", 12),
)


def render_comparison(comparison: Comparison, style: Style | None = None) -> str:
    style = style or Style()
    runs = comparison.runs
    headers = ["", *(r.info.run_id[:SHORT_ID] for r in runs)]
    rows = [
        ["name", *(fmt_text(r.info.run_name, 24) for r in runs)],
        ["status", *(r.info.status for r in runs)],
        ["duration", *(fmt_duration(r.info.start_time, r.info.end_time) for r in runs)],
    ]
    highlight = set()
    for label, tag, width in _SOURCE_ROWS:
        values = [r.tags.get(tag) for r in runs]
        if len(set(values)) > 1:  # shown only when the runs differ there
            highlight.add(len(rows))
            rows.append([label, *(fmt_text(v[:width] if v else v, 24) for v in values)])
    for key, values in comparison.params.items():
        if key in comparison.differing:
            highlight.add(len(rows))
        rows.append([f"params.{key}", *(fmt_text(v, 24) for v in values)])
    for key, summaries in comparison.metrics.items():
        for part in ("latest", "min", "max"):
            label = f"metrics.{key}" if part == "latest" else f"  {part}"
            cells = [fmt_number(getattr(s, part)) if s else "-" for s in summaries]
            rows.append([label, *cells])
    table = render(headers, rows, highlight=highlight, style=style)
    if comparison.differing and not style.color:
        table += "\n\n* params that differ between the runs"
    return table
