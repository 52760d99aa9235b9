"""Run endings that could not reach their store yet, kept on disk until `mlproj runs sync`.

When a tracking server is down at the end of a run (or the store's disk is full), the run's
final status, its last tags and its log files are kept under `$MLPROJ_HOME/pending/RUN_ID/`;
nothing is deleted before the store has it. `sync` delivers them later.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mlproj.errors import MlprojError
from mlproj.paths import pending_ends_dir
from mlproj.tracking.base import TERMINAL_STATUSES, RunStatus, Store
from mlproj.tracking.lifecycle import finish_run

_ENTRY_FILE = "pending.json"
_FILES_DIR = "files"


@dataclass(frozen=True)
class PendingEnd:
    """A run end waiting for its store: where it is kept and what it holds."""

    directory: Path
    tracking_uri: str
    run_id: str
    status: RunStatus
    forced: bool  # set over a terminal status the child's own MLflow may have set
    end_time: int
    tags: Mapping[str, str]
    artifact_dir: str  # where the kept files go in the run's artifacts (e.g. "logs")

    @property
    def files(self) -> list[Path]:
        folder = self.directory / _FILES_DIR
        return sorted(folder.iterdir()) if folder.is_dir() else []


def spool_dir() -> Path:
    return pending_ends_dir()


def keep(
    tracking_uri: str,
    run_id: str,
    status: str,
    forced: bool,
    end_time: int,
    tags: Mapping[str, str],
    files: Mapping[str, Path],
    artifact_dir: str,
) -> Path:
    """Keep a run's end for later delivery; `files` (name -> path) are copied. Returns the
    entry's directory. Raises OSError when even that is impossible."""
    entry = spool_dir() / run_id
    (entry / _FILES_DIR).mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, path in files.items():
        if path.is_file():
            shutil.copyfile(path, entry / _FILES_DIR / name)
    data = {
        "tracking_uri": tracking_uri,  # may hold credentials: the entry is private (0600)
        "run_id": run_id,
        "status": status,
        "forced": forced,
        "end_time": end_time,
        "tags": dict(tags),
        "artifact_dir": artifact_dir,
    }
    tmp = entry / f".{_ENTRY_FILE}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, entry / _ENTRY_FILE)  # the entry counts only once this exists
    return entry


def pending() -> list[PendingEnd]:
    """Every kept run end, oldest first; unreadable entries are skipped."""
    found = []
    root = spool_dir()
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        try:
            data = json.loads((entry / _ENTRY_FILE).read_text())
            found.append(
                PendingEnd(
                    entry,
                    str(data["tracking_uri"]),
                    str(data["run_id"]),
                    _terminal(str(data["status"])),
                    bool(data.get("forced", False)),
                    int(data["end_time"]),
                    {str(k): str(v) for k, v in dict(data["tags"]).items()},
                    str(data.get("artifact_dir", "logs")),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    found.sort(key=lambda p: p.end_time)
    return found


def _terminal(status: str) -> RunStatus:
    for known in TERMINAL_STATUSES:
        if status == known:
            return known
    raise ValueError(f"not a terminal status: {status!r}")  # the entry is skipped


def deliver(store: Store, end: PendingEnd) -> None:
    """Send one kept end to its store (files, tags, then the status), then forget it.
    Raises MlprojError (nothing is removed) when the store still cannot take it."""
    for path in end.files:
        store.log_artifact(end.run_id, path, end.artifact_dir)
    if end.tags:
        store.set_tags(end.run_id, end.tags)
    if end.forced:
        store.set_terminated(end.run_id, end.status, end.end_time)
    else:
        finish_run(store, end.run_id, end.status, end.end_time)
    shutil.rmtree(end.directory, ignore_errors=True)


def deliver_all(
    open_store: Callable[[str], Store], only_uri: str | None = None
) -> tuple[list[PendingEnd], list[tuple[PendingEnd, str]]]:
    """Deliver every kept end (of `only_uri`'s store, when given): (delivered, failed+why)."""
    done: list[PendingEnd] = []
    failed: list[tuple[PendingEnd, str]] = []
    for end in pending():
        if only_uri is not None and end.tracking_uri != only_uri:
            continue
        try:
            deliver(open_store(end.tracking_uri), end)
        except (MlprojError, OSError) as exc:
            why = exc.one_line() if isinstance(exc, MlprojError) else str(exc)
            failed.append((end, why))
        else:
            done.append(end)
    return done, failed
