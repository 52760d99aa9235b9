"""Finding experiments and runs the way a user names them: name or id, full id or prefix."""

from __future__ import annotations

from collections.abc import Sequence

from mlproj.errors import TrackingError
from mlproj.tracking.base import Experiment, Run, Store
from mlproj.tracking.owner import end_orphans

FULL_RUN_ID_LENGTH = 32


def select_experiments(store: Store, wanted: Sequence[str]) -> list[Experiment]:
    """The experiments named by id or name (all active ones when `wanted` is empty)."""
    known = store.list_experiments()
    if not wanted:
        return known
    chosen: list[Experiment] = []
    for item in wanted:
        match = next((e for e in known if e.experiment_id == item), None)
        match = match or next((e for e in known if e.name == item), None)
        if match is None:
            names = ", ".join(f"{e.name} ({e.experiment_id})" for e in known) or "none"
            raise TrackingError(
                f"no experiment named or numbered {item!r} in {store.uri}",
                hint=f"known experiments: {names}",
            )
        if match not in chosen:
            chosen.append(match)
    return chosen


def find_run(store: Store, run_ref: str) -> Run:
    """A run by its full id, or by a unique prefix of it (as `runs list` shows them). A RUNNING
    run whose mlproj process is provably gone is ended KILLED on the way (tracking.owner)."""
    return end_orphans(store, [_find_run(store, run_ref)])[0]


def _find_run(store: Store, run_ref: str) -> Run:
    ref = run_ref.strip().lower()
    if len(ref) >= FULL_RUN_ID_LENGTH:
        return store.get_run(run_ref.strip())
    if len(ref) < 4:
        raise TrackingError(f"run id {run_ref!r} is too short", hint="give at least 4 characters")
    experiments = [e.experiment_id for e in store.list_experiments()]
    runs = store.search_runs(experiments) if experiments else []
    matches = [r for r in runs if r.info.run_id.startswith(ref)]
    if not matches:
        raise TrackingError(f"no run with id {run_ref!r} in {store.uri}")
    if len(matches) > 1:
        ids = ", ".join(r.info.run_id for r in matches[:5])
        raise TrackingError(f"run id prefix {run_ref!r} is ambiguous: {ids}")
    return matches[0]
