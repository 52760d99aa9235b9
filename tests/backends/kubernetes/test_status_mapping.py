"""Job/pod status -> run status, on recorded API objects (the JSON shapes of the Kubernetes API
reference for batch/v1 Job and v1 Pod, checked here against the client's own models)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlproj.backends.kubernetes.status import JobStatus, job_status
from mlproj.backends.kubernetes.validate import model_problems
from tests.conftest import RESOURCES

API = RESOURCES / "kubernetes" / "api"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((API / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("name", sorted(p.stem for p in API.glob("*.json")))
def test_recorded_objects_have_the_apis_shape(name: str) -> None:
    data = _load(name)
    model = {"Job": "V1Job", "Pod": "V1Pod"}[data["kind"]]
    assert model_problems(data, model) == []


@pytest.mark.parametrize(
    ("job", "pods", "expected"),
    [
        ("job_pending", ["pod_creating"], JobStatus("RUNNING")),  # active, container coming
        ("job_running", ["pod_running"], JobStatus("RUNNING")),
        ("job_complete", [], JobStatus("FINISHED")),
        (
            "job_deadline_exceeded",
            [],
            JobStatus("KILLED", "DeadlineExceeded: Job was active longer than specified deadline"),
        ),
        (
            "job_backoff_limit",
            ["pod_oom_killed"],
            JobStatus(
                "FAILED",
                "OOMKilled; BackoffLimitExceeded: Job has reached the specified backoff limit",
            ),
        ),
        (
            "job_pending",
            ["pod_image_pull_backoff"],
            JobStatus(
                "FAILED",
                'ImagePullBackOff: Back-off pulling image "127.0.0.1:5055/example:abc1234"',
            ),
        ),
    ],
)
def test_status_mapping(job: str, pods: list[str], expected: JobStatus) -> None:
    assert job_status(_load(job), [_load(p) for p in pods]) == expected


def test_a_job_not_yet_started_is_scheduled() -> None:
    job = _load("job_pending")
    job["status"] = {}
    assert job_status(job, []) == JobStatus("SCHEDULED")
