"""A Job and its pods (API JSON, as `kubectl get -o json` shows them) -> the run's status.

Terminal: the Job's `Complete` condition (FINISHED), its `Failed` condition (FAILED; KILLED for
`DeadlineExceeded`, a time limit like Slurm's), and a pod stuck on an image it cannot pull or a
container it cannot create (FAILED: the Job would wait forever). OOMKilled containers name the
reason of a failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

STUCK_REASONS = frozenset(
    {"ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError"}
)


@dataclass(frozen=True)
class JobStatus:
    status: str  # SCHEDULED / RUNNING / FINISHED / FAILED / KILLED
    reason: str | None = None


def job_status(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> JobStatus:
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        kind, reason = condition.get("type"), condition.get("reason") or ""
        message = condition.get("message") or ""
        if kind == "Complete":
            return JobStatus("FINISHED")
        if kind == "Failed":
            why = ": ".join(x for x in (reason, message) if x) or "Job failed"
            oom = next((r for r in _terminations(pods) if r == "OOMKilled"), None)
            if oom:
                why = f"OOMKilled; {why}"
            return JobStatus("KILLED" if reason == "DeadlineExceeded" else "FAILED", why)
    for waiting in _waitings(pods):
        if waiting.get("reason") in STUCK_REASONS:
            text = ": ".join(x for x in (waiting.get("reason"), waiting.get("message")) if x)
            return JobStatus("FAILED", text)
    running = any((p.get("status") or {}).get("phase") == "Running" for p in pods)
    if running or status.get("active"):
        return JobStatus("RUNNING")
    return JobStatus("SCHEDULED")


def _statuses(pods: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for pod in pods:
        pod_status = pod.get("status") or {}
        yield from pod_status.get("initContainerStatuses") or []
        yield from pod_status.get("containerStatuses") or []


def _waitings(pods: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for container in _statuses(pods):
        waiting = (container.get("state") or {}).get("waiting")
        if waiting:
            yield waiting


def _terminations(pods: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    for container in _statuses(pods):
        for state in (container.get("state") or {}, container.get("lastState") or {}):
            terminated = state.get("terminated")
            if terminated and terminated.get("reason"):
                yield str(terminated["reason"])
