"""`mlproj runs show`: everything about one run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlproj.commands.runs import listing
from mlproj.commands.runs.table import fmt_duration, fmt_number, fmt_time
from mlproj.errors import TrackingError
from mlproj.tracking import lookup
from mlproj.tracking.base import Run, Store


@dataclass(frozen=True)
class RunDetails:
    run: Run
    experiment_name: str
    artifacts: list[str]


def run_details(store: Store, run_ref: str) -> RunDetails:
    from mlproj.backends import reconcile

    run = reconcile(store, lookup.find_run(store, run_ref))  # a cluster job gone without a word
    names = {e.experiment_id: e.name for e in store.list_experiments()}
    try:
        artifacts = store.list_artifacts(run.info.run_id)
    except TrackingError:
        artifacts = []  # artifacts kept where mlproj cannot look (e.g. s3:)
    return RunDetails(run, names.get(run.info.experiment_id, ""), artifacts)


def details_dict(details: RunDetails) -> dict[str, Any]:
    data = listing.run_dict(details.run, details.experiment_name)
    data["artifacts"] = details.artifacts
    return data


def _section(title: str, values: Mapping[str, str]) -> list[str]:
    if not values:
        return [f"{title}: none"]
    width = max(len(k) for k in values)
    lines = [f"{title}:"]
    for key in sorted(values):
        text = values[key].replace("\n", "\n" + " " * (width + 4))
        lines.append(f"  {key.ljust(width)}  {text}")
    return lines


def reproducible(tags: Mapping[str, str]) -> str:
    """Whether `mlproj reproduce` can rebuild the run, and if not, why."""
    flag = tags.get("mlproj.reproducible")
    unlocked = tags.get("mlproj.env.unlocked")  # part of the env has no lock (--conda-exe)
    if flag == "true" and unlocked:
        return f"not exactly: {unlocked}"
    if flag == "true":
        return "yes (mlproj reproduce)"
    if flag == "false":
        return f"no: {tags.get('mlproj.reproducible.reason', 'unknown reason')}"
    return "unknown (recorded before mlproj kept a reproducibility record)"


def render_details(details: RunDetails) -> str:
    info = details.run.info
    experiment = f"{info.experiment_id} ({details.experiment_name})"
    ended = fmt_time(info.end_time)
    if info.end_time:
        ended += f"  (took {fmt_duration(info.start_time, info.end_time)})"
    header = {
        "run id": info.run_id,
        "name": info.run_name,
        "experiment": experiment if details.experiment_name else info.experiment_id,
        "status": info.status,
        "user": info.user_id or "-",
        "started": fmt_time(info.start_time),
        "ended": ended,
        "artifact uri": info.artifact_uri,
        "reproducible": reproducible(details.run.tags),
    }
    width = max(len(k) for k in header)
    lines = [f"{k.ljust(width)}  {v}" for k, v in header.items()]
    lines += ["", *_section("params", details.run.params)]
    metrics = {k: fmt_number(v) for k, v in details.run.metrics.items()}
    lines += ["", *_section("metrics (latest)", metrics)]
    lines += ["", *_section("tags", details.run.tags)]
    lines += ["", "artifacts:" if details.artifacts else "artifacts: none"]
    lines += [f"  {path}" for path in details.artifacts]
    return "\n".join(lines)
