"""SCHEDULED -> RUNNING -> FINISHED as MLflow's own `mlflow ui` serves it to its web pages, for
the stores mlproj writes itself (the file store) and through the mlflow package (sqlite)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mlproj.tracking import open_store
from mlproj.tracking.lifecycle import finish_run, mark_status
from tests.helpers import free_port, now_ms, wait_until


@contextlib.contextmanager
def _mlflow_ui(backend_uri: str, workdir: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"  # MLflow >= 3.13 opens mlruns/ only so
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", backend_uri]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    with open(workdir / "ui.log", "wb") as log:
        ui = subprocess.Popen(
            argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{url}/health", timeout=2).ok
        return False

    try:
        wait_until(up, 180, 0.25, what="mlflow ui answers", process=ui)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=30)


def _as_the_ui_reads_it(url: str, run_id: str, experiment_id: str) -> tuple[str, str]:
    """The status on the run's page (runs/get) and in the runs table (runs/search)."""
    page = requests.get(
        f"{url}/ajax-api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10
    )
    page.raise_for_status()
    table = requests.post(
        f"{url}/ajax-api/2.0/mlflow/runs/search",
        json={"experiment_ids": [experiment_id]},
        timeout=10,
    )
    table.raise_for_status()
    [row] = [r for r in table.json()["runs"] if r["info"]["run_id"] == run_id]
    return page.json()["run"]["info"]["status"], row["info"]["status"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_mlflow_ui_shows_a_scheduled_run_start_and_finish(tmp_path: Path, kind: str) -> None:
    uri = (
        (tmp_path / "mlruns").as_uri() if kind == "file" else f"sqlite:///{tmp_path / 'mlflow.db'}"
    )
    store = open_store(uri)
    experiment_id = store.resolve_experiment("queued", None)
    info = store.create_run(
        experiment_id, user_id="u", start_time=now_ms(), tags={}, run_name="queued-run"
    )
    mark_status(store, info.run_id, "SCHEDULED")
    with _mlflow_ui(uri, tmp_path) as url:
        seen = [_as_the_ui_reads_it(url, info.run_id, experiment_id)]
        mark_status(store, info.run_id, "RUNNING")
        seen.append(_as_the_ui_reads_it(url, info.run_id, experiment_id))
        finish_run(store, info.run_id, "FINISHED")
        seen.append(_as_the_ui_reads_it(url, info.run_id, experiment_id))
    assert seen == [("SCHEDULED",) * 2, ("RUNNING",) * 2, ("FINISHED",) * 2]
