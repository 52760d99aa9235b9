"""Which process owns a RUNNING run, and ending runs whose owner is provably gone.

A run records its owner as `mlproj.owner` = `PID:START:BOOT` (with `mlproj.host`): the pid of
the mlproj process supervising it, that process's start time in clock ticks since boot (so a
reused pid is not taken for the owner) and the kernel's boot id (so a reboot ends every owner).
When mlproj is SIGKILLed (OOM killer, `kill -9`, a closed laptop lid), its watchdog stops the
run's processes, but nothing is left to record the end: the next `mlproj runs` command on the
same host finds the run RUNNING with a dead owner and ends it KILLED, saying why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from mlproj._util.clock import now_ms
from mlproj.errors import MlprojError
from mlproj.tracking.base import Run, Store

OWNER_TAG = "mlproj.owner"
HOST_TAG = "mlproj.host"
END_REASON_TAG = "mlproj.end_reason"


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return ""


def _start_ticks(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time since boot), None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    state, start = fields[0], fields[19]
    return None if state in (b"Z", b"X") else start.decode()


def owner_tags() -> dict[str, str]:
    """Tags naming this process as the owner of a run."""
    pid = os.getpid()
    return {
        OWNER_TAG: f"{pid}:{_start_ticks(pid) or ''}:{_boot_id()}",
        HOST_TAG: _host(),
    }


def owner_checkable(tags: Mapping[str, str]) -> bool:
    """Does the run name an owner on this host (whose liveness can therefore be checked)?"""
    return tags.get(OWNER_TAG, "").count(":") == 2 and tags.get(HOST_TAG) == _host()


def owner_gone(tags: Mapping[str, str]) -> str | None:
    """Why the run's owner is certainly gone, or None (alive, elsewhere, or unknown)."""
    if not owner_checkable(tags):
        return None  # not recorded, or another machine: we cannot tell
    pid_text, start, boot = tags[OWNER_TAG].split(":")
    if not pid_text.isdigit():
        return None
    if boot and boot != _boot_id():
        return f"the machine was restarted since mlproj (pid {pid_text}) started the run"
    alive_start = _start_ticks(int(pid_text))
    if alive_start is None or (start and alive_start != start):
        return f"the mlproj process that ran it (pid {pid_text}) is gone (killed?)"
    return None


def end_orphans(store: Store, runs: Sequence[Run]) -> list[Run]:
    """End KILLED every RUNNING run whose owner is gone; return `runs` with those refreshed."""
    result = []
    for run in runs:
        reason = owner_gone(run.tags) if run.info.status == "RUNNING" else None
        if reason is not None:
            try:
                store.set_tags(run.info.run_id, {END_REASON_TAG: reason})
                store.set_terminated(run.info.run_id, "KILLED", now_ms())
                run = store.get_run(run.info.run_id)
            except MlprojError:
                pass  # a read-only or unreachable store: show the run as it is
        result.append(run)
    return result


def _host() -> str:
    """socket.gethostname(), without importing socket on every run (POSIX: the same value)."""
    return os.uname().nodename
