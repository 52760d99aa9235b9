"""`mlproj runs list`: select runs across experiments and show them as a table or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlproj.backends import LISTED_BACKENDS, reconcile_runs
from mlproj.commands.runs.table import Style, fmt_duration, fmt_number, fmt_text, fmt_time, render
from mlproj.errors import MlprojError
from mlproj.tracking import lookup, query
from mlproj.tracking.base import Run, Store
from mlproj.tracking.owner import end_orphans
from mlproj.tracking.query import Field

SHORT_ID = 8
_MAX_METRIC_COLUMNS = 4
_MAX_PARAM_COLUMNS = 4
_SHOWN_ATTRS = frozenset({"run_id", "run_name", "status", "start_time"})


@dataclass(frozen=True)
class RunList:
    runs: list[Run]
    total: int  # runs that matched, before --limit
    experiment_names: dict[str, str]  # id -> name
    columns: tuple[Field, ...]  # params / metrics / tags shown next to the fixed columns
    hint: str | None = None  # why nothing matched, when a filtered key exists in no run
    warning: str | None = None  # cluster runs shown as recorded: their engine could not be asked


def _columns(runs: Sequence[Run], referenced: Sequence[Field]) -> tuple[Field, ...]:
    """Fields the user filtered or sorted on, then the metrics, then params that differ."""
    chosen = [f for f in referenced if not (f.kind == "attr" and f.key in _SHOWN_ATTRS)]
    metrics = sorted({k for r in runs for k in r.metrics})
    chosen += [Field("metric", k) for k in metrics[:_MAX_METRIC_COLUMNS]]
    params = sorted({k for r in runs for k in r.params})
    varying = [k for k in params if len({r.params.get(k) for r in runs}) > 1]
    chosen += [Field("param", k) for k in varying[:_MAX_PARAM_COLUMNS]]
    return tuple(dict.fromkeys(chosen))


def list_runs(
    store: Store,
    experiments: Sequence[str],
    filter_text: str | None,
    sort_texts: Sequence[str],
    limit: int | None,
) -> RunList:
    """Runs of the chosen experiments (all when none) that match the filter, sorted, cut."""
    flt = query.parse_filter(filter_text)
    keys = [query.parse_sort(s) for s in sort_texts]
    chosen = lookup.select_experiments(store, experiments)
    runs = store.search_runs([e.experiment_id for e in chosen]) if chosen else []
    runs, warning = _reconciled(store, end_orphans(store, runs))
    selected, total = query.select_runs(runs, flt, keys, limit)
    referenced = [*flt.fields, *(k.field for k in keys)]
    return RunList(
        runs=selected,
        total=total,
        experiment_names={e.experiment_id: e.name for e in chosen},
        columns=_columns(selected, referenced),
        hint=None if selected else _unknown_keys_hint(runs, flt.fields),
        warning=warning,
    )


def _reconciled(store: Store, runs: list[Run]) -> tuple[list[Run], str | None]:
    """Runs submitted to a cluster whose job is gone (cancelled while queued, killed by the
    scheduler) ended now, before the filter sees their status; as recorded, with the reason,
    when the cluster cannot be asked (no client tools here, no controller reachable)."""
    try:
        return reconcile_runs(store, runs, LISTED_BACKENDS), None
    except MlprojError as exc:
        return runs, f"statuses of cluster runs shown as recorded: {exc.one_line()}"


_KIND_WORDS = {
    "metric": ("metric", "metrics"),
    "param": ("parameter", "params"),
    "tag": ("tag", "tags"),
}


def _unknown_keys_hint(runs: Sequence[Run], fields: Sequence[Field]) -> str | None:
    """`metrics.val_acc > 0.6` on runs without val_acc: say which names the runs do have."""
    for field in fields:
        if field.kind not in _KIND_WORDS:
            continue
        have = sorted({k for r in runs for k in getattr(r, f"{field.kind}s")})
        if field.key in have:
            continue
        word, plural = _KIND_WORDS[field.kind]
        names = ", ".join(have[:20]) + (", ..." if len(have) > 20 else "") if have else "none"
        return f"no run has the {word} '{field.key}'; {plural} recorded: {names}"
    return None


def run_dict(run: Run, experiment_name: str | None = None) -> dict[str, Any]:
    """A run as JSON-ready data (the shape of `--json` output)."""
    info = run.info
    data: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "user_id": info.user_id,
        "artifact_uri": info.artifact_uri,
        "params": dict(run.params),
        "metrics": dict(run.metrics),
        "tags": dict(run.tags),
    }
    if experiment_name is not None:
        data["experiment_name"] = experiment_name
    return data


def _cell(run: Run, field: Field) -> str:
    value = query.field_value(run, field)
    if isinstance(value, float):
        return fmt_time(int(value)) if field.kind == "attr" else fmt_number(value)
    return fmt_text(value, 24)


def render_list(result: RunList, style: Style | None = None, width: int | None = None) -> str:
    several = len({r.info.experiment_id for r in result.runs}) > 1
    headers = ["RUN ID", "NAME", "STATUS", "STARTED", "DURATION"]
    headers += ["EXPERIMENT"] if several else []
    headers += [f.label for f in result.columns]
    rows = []
    for run in result.runs:
        info = run.info
        row = [
            info.run_id[:SHORT_ID],
            fmt_text(info.run_name, 30),
            info.status,
            fmt_time(info.start_time),
            fmt_duration(info.start_time, info.end_time),
        ]
        row += [fmt_text(result.experiment_names.get(info.experiment_id), 20)] if several else []
        row += [_cell(run, f) for f in result.columns]
        rows.append(row)
    return render(headers, rows, style=style or Style(), width=width, keep=5)
