"""Slurm's client tools as functions: sbatch, squeue, scontrol, scancel, sinfo.

Accounting may be off (no slurmdbd), so nothing here relies on `sacct`: a job's state comes from
squeue while it is queued or running and from `scontrol show job` for MinJobAge seconds after.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mlproj.errors import RunError

_TIMEOUT = 60.0
# squeue states of a job that still runs or may run (squeue -o %T spellings)
ACTIVE_STATES = frozenset(
    {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING"}
)


@dataclass(frozen=True)
class JobState:
    state: str  # e.g. RUNNING, COMPLETED, TIMEOUT, CANCELLED, NODE_FAIL; UNKNOWN when forgotten
    reason: str = ""  # Slurm's Reason field (None when it has none)
    exit_code: str = ""  # "code:signal"
    node: str = ""
    stderr_path: str = ""  # the job's --error file
    end_time: int | None = None  # EndTime in ms; for a job that may still run, its projected end


def _run(
    argv: Sequence[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if shutil.which(argv[0]) is None:
        raise RunError(
            f"{argv[0]} not found: -b slurm needs Slurm's client tools on this host",
            "install slurm-client (or load the cluster's slurm module) and set SLURM_CONF if "
            "the cluster's slurm.conf is not in the default place",
        )
    try:
        return subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise RunError(f"{argv[0]} did not answer within {_TIMEOUT:.0f}s") from None


def sbatch_argv(script: str, args: Sequence[str]) -> list[str]:
    """The command line that submits `script` (the job script's path)."""
    return ["sbatch", "--parsable", *args, script]


def sbatch(script: str, args: Sequence[str]) -> str:
    """Submit `script` (the job script's path); return the job id."""
    done = _run(sbatch_argv(script, args))
    if done.returncode != 0:
        raise RunError(f"sbatch refused the job: {_last_line(done.stderr)}")
    return done.stdout.strip().split(";")[0]  # "<id>[;<cluster>]"


def scancel(job_id: str) -> None:
    done = _run(["scancel", job_id])
    if done.returncode != 0 and "Invalid job id" not in done.stderr:
        raise RunError(f"scancel {job_id} failed: {_last_line(done.stderr)}")


def queue_state(job_id: str) -> str | None:
    """The job's state while squeue lists it, else None (ended, or forgotten)."""
    return queue_states([job_id]).get(job_id)


def queue_states(job_ids: Sequence[str]) -> dict[str, str]:
    """One squeue call for all `job_ids`: id -> state of those still in the queue. An id may
    be a job, an array job (queued while any task is) or one task of it (`12_3`)."""
    if not job_ids:
        return {}
    done = _run(["squeue", "-h", "-r", "-j", ",".join(job_ids), "-o", "%i|%F|%A|%T"])
    if done.returncode != 0:
        if "Invalid job id" in done.stderr:  # squeue's answer when the only id asked is gone
            return {}
        raise RunError(f"squeue failed: {_last_line(done.stderr)}")
    wanted = set(job_ids)
    found: dict[str, str] = {}
    for line in done.stdout.splitlines():
        *names, state = line.strip().split("|")
        # the task's name (12_3), its array job (12) and its own job id, each as asked
        for name in wanted.intersection(names):
            found.setdefault(name, state)
    return found


def job_state(job_id: str) -> JobState:
    """`scontrol show job`: known during the job and for MinJobAge seconds after it."""
    # times as parse_time reads them, whatever SLURM_TIME_FORMAT the user has set (only here:
    # sbatch would pass it on to the job)
    time_format = {**os.environ, "SLURM_TIME_FORMAT": "standard"}
    done = _run(["scontrol", "show", "job", "-o", job_id], time_format)
    if done.returncode != 0:
        return JobState("UNKNOWN", "Slurm no longer knows the job")
    fields = dict(
        item.split("=", 1) for item in done.stdout.split() if "=" in item and item[0] != "="
    )
    reason = fields.get("Reason", "")
    return JobState(
        state=fields.get("JobState", "UNKNOWN"),
        reason="" if reason in ("None", "(null)") else reason,
        exit_code=fields.get("ExitCode", ""),
        node=fields.get("BatchHost", ""),
        stderr_path=fields.get("StdErr", ""),
        end_time=parse_time(fields.get("EndTime", "")),
    )


def parse_time(text: str) -> int | None:
    """A time as scontrol prints it (`2026-11-30T22:51:07`, this host's local time) in ms since
    the epoch; None for `Unknown`, `None` and anything else that is not a time."""
    try:
        return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").timestamp()) * 1000
    except (ValueError, OverflowError, OSError):
        return None


# What slurmstepd writes to the job's stderr before it signals the job: while the job is
# COMPLETING, this is the only place that says why (scontrol shows the end state only later).
_STEPD_KILL = re.compile(
    r"\*\*\* JOB (?P<job>\d+) ON (?P<node>\S+) CANCELLED AT (?P<at>\S+)"
    r"(?: DUE TO (?P<why>[A-Z ]+?))?(?: \*\*\*|$)",
    re.MULTILINE,
)
_WHY_STATE = {"TIME LIMIT": "TIMEOUT", "PREEMPTION": "PREEMPTED", "NODE FAILURE": "NODE_FAIL"}


def stepd_kill_notice(text: str, job_id: str) -> tuple[str, str] | None:
    """(state, the notice) from slurmstepd's `*** JOB n ON node CANCELLED AT t [DUE TO x] ***`
    line for `job_id`, or None when Slurm did not kill the job."""
    found = [m for m in _STEPD_KILL.finditer(text) if m.group("job") == job_id]
    if not found:
        return None
    match = found[-1]
    why = (match.group("why") or "").strip()
    state = _WHY_STATE.get(why, "CANCELLED" if not why else why.replace(" ", "_"))
    return state, match.group(0).strip("* ")


def read_tail(path: str, limit: int = 64 * 1024) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def nodes(partition: str | None) -> list[str]:
    """The node names of `partition` (all partitions when None)."""
    argv = ["sinfo", "-h", "-N", "-o", "%N"]
    if partition:
        argv += ["-p", partition]
    done = _run(argv)
    if done.returncode != 0:
        raise RunError(f"cannot reach Slurm: sinfo: {_last_line(done.stderr)}")
    return sorted({line.strip() for line in done.stdout.splitlines() if line.strip()})


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
