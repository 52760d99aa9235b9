"""Ending a run the way mlproj promises: a terminal status is set once and never overwritten
(MLflow's runner overwrites whatever the child decided); before that, a run submitted to a
cluster goes SCHEDULED -> RUNNING."""

from __future__ import annotations

from mlproj._util.clock import now_ms
from mlproj.tracking.base import TERMINAL_STATUSES, RunStatus, Store


def finish_run(store: Store, run_id: str, status: RunStatus, end_time: int | None = None) -> str:
    """Set `status` (FINISHED / FAILED / KILLED) and the end time unless the run is already
    terminal (the child ended it itself); return the run's final status."""
    current = store.get_run(run_id).info.status
    if current in TERMINAL_STATUSES:
        return current
    when = end_time if end_time is not None else now_ms()
    store.set_terminated(run_id, status, when)
    return status


def mark_status(store: Store, run_id: str, status: RunStatus) -> str:
    """Move a run that has not ended to SCHEDULED (queued by a cluster) or RUNNING (started);
    an ended run keeps its end. Return the run's status now."""
    current = store.get_run(run_id).info.status
    if current in TERMINAL_STATUSES or current == status:
        return current
    store.set_status(run_id, status)
    return status
