"""The submitted-run handle of -b kubernetes, driven by recorded API objects in place of an API
server (none can run here): statuses recorded in the run, Ctrl-C deletes the Job (Foreground)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlproj.backends.kubernetes.backend import REASON_TAG, KubernetesRun
from mlproj.tracking import open_store
from tests.conftest import RESOURCES

API = RESOURCES / "kubernetes" / "api"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((API / f"{name}.json").read_text())
    return data


class RecordedApi:
    """Answers `read` with recorded (job, pods) pairs in turn; records deletes and log follows."""

    def __init__(self, answers: list[tuple[str | None, list[str]]]) -> None:
        self.answers = answers
        self.deleted: list[tuple[str, str]] = []
        self.followed: list[str] = []

    def read(self, name: str, namespace: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        job, pods = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return (_load(job) if job else None), [_load(p) for p in pods]

    def delete(self, name: str, namespace: str) -> None:
        self.deleted.append((name, namespace))

    def stream_logs(self, pod: str, namespace: str) -> None:
        self.followed.append(pod)


def _handle(tmp_path: Path, api: RecordedApi) -> tuple[Any, str]:
    store = open_store(str(tmp_path / "mlruns"))
    info = store.create_run("0", user_id="u", start_time=1, tags={}, run_name=None)
    handle = KubernetesRun(store, info.run_id, api, "job-1", "mlflow")  # type: ignore[arg-type]
    return handle, info.run_id


def test_wait_follows_the_pod_and_ends_finished(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("mlproj.backends.kubernetes.backend._POLL", 0.01)
    api = RecordedApi(
        [("job_pending", ["pod_creating"]), ("job_running", ["pod_running"]), ("job_complete", [])]
    )
    handle, _run_id = _handle(tmp_path, api)
    assert handle.wait() is True
    assert handle.get_status() == "FINISHED"
    assert api.followed == ["docker-example-2026-11-30-16-05-01-123456-x7k2p"]
    assert handle.job_id == "mlflow/job-1"


def test_an_image_that_cannot_be_pulled_fails_the_run_with_the_reason(tmp_path: Path) -> None:
    api = RecordedApi([("job_pending", ["pod_image_pull_backoff"])])
    handle, run_id = _handle(tmp_path, api)
    assert handle.wait() is False
    run = open_store(str(tmp_path / "mlruns")).get_run(run_id)
    assert run.info.status == "FAILED"
    assert run.tags[REASON_TAG].startswith("ImagePullBackOff: Back-off pulling image")


def test_a_deleted_job_is_not_left_running(tmp_path: Path) -> None:
    handle, _run_id = _handle(tmp_path, RecordedApi([(None, [])]))
    assert handle.get_status() == "FAILED"


def test_ctrl_c_deletes_the_job_and_the_run_ends_killed(tmp_path: Path, monkeypatch: Any) -> None:
    api = RecordedApi([("job_running", ["pod_running"])])
    handle, run_id = _handle(tmp_path, api)

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlproj.backends.kubernetes.backend.time.sleep", interrupt)
    assert handle.wait() is False
    assert api.deleted == [("job-1", "mlflow")]
    assert open_store(str(tmp_path / "mlruns")).get_run(run_id).info.status == "KILLED"
