"""`mlproj runs wait` and `mlproj runs logs`: follow a run to its end, read its saved output."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from mlproj.errors import TrackingError
from mlproj.tracking import lookup
from mlproj.tracking.base import TERMINAL_STATUSES, Run, Store
from mlproj.tracking.owner import end_orphans
from mlproj.tracking.runlogs import LOG_ARTIFACT_DIR, LogStream, log_artifact

Stream = Literal["stdout", "stderr", "both"]
_MAX_FAILED_POLLS = 5
_RECONCILE_EVERY = 5.0  # seconds between asking a cluster about a submitted run's job


def wait_for_run(
    store: Store,
    run_ref: str,
    timeout: float | None,
    *,
    poll: float = 0.2,
    max_poll: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> Run:
    """Poll until the run is FINISHED, FAILED or KILLED, or `timeout` seconds have passed;
    return the run as last seen (its status says which)."""
    from mlproj.backends import reconcile

    run = reconcile(store, lookup.find_run(store, run_ref))
    deadline = None if timeout is None else clock() + timeout
    delay, failures = poll, 0
    next_reconcile = clock() + _RECONCILE_EVERY
    while run.info.status not in TERMINAL_STATUSES:
        if deadline is not None:
            left = deadline - clock()
            if left <= 0:
                return run
            delay = min(delay, left)
        time.sleep(delay)
        delay = min(delay * 1.5, max_poll)
        try:
            run = end_orphans(store, [store.get_run(run.info.run_id)])[0]
            failures = 0
            if clock() >= next_reconcile:  # a cluster job that ended without ending its run
                run = reconcile(store, run)
                next_reconcile = clock() + _RECONCILE_EVERY
        except TrackingError:
            # A server restart or a meta.yaml caught mid-rewrite: keep waiting, within reason.
            failures += 1
            if failures >= _MAX_FAILED_POLLS:
                raise
    return run


def read_logs(store: Store, run_ref: str, stream: Stream) -> list[tuple[str, bytes]]:
    """The saved output of a run as (stream name, bytes) pairs, in stdout, stderr order."""
    run = lookup.find_run(store, run_ref)
    run_id = run.info.run_id
    wanted = _streams(stream)
    saved = set(store.list_artifacts(run_id, LOG_ARTIFACT_DIR))
    found: list[tuple[str, bytes]] = [
        (name, store.read_artifact(run_id, log_artifact(name)))
        for name in wanted
        if log_artifact(name) in saved
    ]
    if not found:
        files = " and ".join(log_artifact(n) for n in wanted)
        raise TrackingError(
            f"run {run_id} has no saved {stream if stream != 'both' else 'output'} ({files})",
            hint="runs started by `mlproj run` save their output there; other runs may not have it",
        )
    return found


def follow_logs(
    store: Store,
    run_ref: str,
    stream: Stream,
    emit: Callable[[str, bytes], None],
    *,
    poll: float = 0.5,
) -> Run:
    """Emit a run's output as it grows, until the run has ended and all of it is out.

    Output appears live for local stores (mlproj writes the logs there as the run goes); a
    remote store gets the logs at the end, so they come out then."""
    run = lookup.find_run(store, run_ref)
    run_id = run.info.run_id
    wanted = _streams(stream)
    sent = dict.fromkeys(wanted, 0)
    while True:
        ended = run.info.status in TERMINAL_STATUSES  # read before the logs: none is missed
        saved = set(store.list_artifacts(run_id, LOG_ARTIFACT_DIR))
        for name in wanted:
            if log_artifact(name) in saved:
                data = store.read_artifact(run_id, log_artifact(name))
                if len(data) > sent[name]:
                    emit(name, data[sent[name] :])
                    sent[name] = len(data)
        if ended:
            return run
        time.sleep(poll)
        run = wait_for_run(store, run_id, 0)  # one poll, riding out a failed read


def _streams(stream: Stream) -> list[LogStream]:
    return ["stdout", "stderr"] if stream == "both" else [stream]
