"""Recording the end of a run so that it is never lost: retried while the store does not answer,
kept on disk (tracking.spool) when it stays away, delivered later by `mlproj runs sync`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from mlproj._util.record import Record
from mlproj.errors import MlprojError, TrackingError
from mlproj.sources.uri import scrub
from mlproj.tracking.base import RunStatus, Store
from mlproj.tracking.lifecycle import finish_run

RETRY_VARIABLE = "MLPROJ_TRACKING_RETRY_SECONDS"
DEFAULT_RETRY_SECONDS = 30.0


class RunEnd(Record):
    run_id: str
    status: RunStatus  # the status mlproj decided (FINISHED / FAILED / KILLED)
    forced: bool  # True: set even over a terminal status the child's own MLflow set
    end_time: int
    tags: Mapping[str, str]
    log_files: Mapping[str, Path]  # name -> path, uploaded as artifacts unless already there
    upload_logs: bool  # False when the logs were written into a local store live


class Recorded(Record):
    status: str  # the run's final status as the store has it (or will have it)
    kept_in: Path | None = None  # set when the end waits in the spool for `mlproj runs sync`
    error: str | None = None  # why it waits


def retry_seconds() -> float:
    try:
        value = float(os.environ.get(RETRY_VARIABLE, DEFAULT_RETRY_SECONDS))
    except ValueError:
        return DEFAULT_RETRY_SECONDS
    return value if value >= 0 and value == value else DEFAULT_RETRY_SECONDS


def _retryable(exc: BaseException) -> bool:
    """A store that is away (network, 5xx, a full disk) may come back; a refusal will not."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status < 500:
        return False
    return isinstance(exc, (TrackingError, OSError))


def with_retries(
    action: Callable[[], object],
    seconds: float,
    on_retry: Callable[[str], None],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run `action`; while it fails in a retryable way, retry with backoff for `seconds`."""
    deadline = time.monotonic() + seconds
    delay, told = 0.5, False
    while True:
        try:
            action()
            return
        except (MlprojError, OSError) as exc:
            if not _retryable(exc) or time.monotonic() + delay > deadline:
                raise
            if not told:
                why = exc.one_line() if isinstance(exc, MlprojError) else str(exc)
                on_retry(f"{why}; retrying for up to {seconds:.0f} s")
                told = True
        sleep(delay)
        delay = min(delay * 2, 5.0)


def record_end(store: Store, end: RunEnd, note: Callable[[str], None]) -> Recorded:
    """Upload the logs (when needed), set the tags and the terminal status; on lasting failure
    keep all of it in the spool and say where."""
    final: list[str] = []

    def send() -> None:
        if end.upload_logs:
            for path in end.log_files.values():
                if path.is_file():
                    store.log_artifact(end.run_id, path, "logs")
        if end.tags:
            store.set_tags(end.run_id, end.tags)
        if end.forced:
            store.set_terminated(end.run_id, end.status, end.end_time)
            final.append(end.status)
        else:
            final.append(finish_run(store, end.run_id, end.status, end.end_time))

    try:
        with_retries(send, retry_seconds(), note)
        return Recorded(final[-1])
    except (MlprojError, OSError) as exc:
        why = exc.one_line() if isinstance(exc, MlprojError) else str(exc)
    from mlproj.tracking import spool  # only when the store stays away

    files = end.log_files if end.upload_logs else {}
    try:
        kept = spool.keep(
            store.uri, end.run_id, end.status, end.forced, end.end_time, end.tags, files, "logs"
        )
    except OSError as exc:
        note(f"cannot record the end of run {end.run_id} ({why}), nor keep it ({exc})")
        return Recorded(end.status, None, why)
    note(
        f"could not record the end of run {end.run_id} in {scrub(store.uri)} ({why}); "
        f"its status ({end.status}) and logs are kept in {kept}: "
        "`mlproj runs sync` sends them when the store is back"
    )
    return Recorded(end.status, kept, why)


def deliver_pending(only_uri: str | None = None) -> tuple[int, list[str]]:
    """`mlproj runs sync`: deliver kept ends; (how many delivered, one line per failure)."""
    from mlproj.tracking import open_store, spool

    done, failed = spool.deliver_all(open_store, only_uri)
    lines = [f"run {end.run_id}: {why} (kept in {end.directory})" for end, why in failed]
    return len(done), lines
