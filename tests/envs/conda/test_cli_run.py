"""End to end, as a user types it: `mlproj lock`, then `mlproj run --frozen` of a conda project,
read back with MLflow's own client."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.envs.conda import channel as chan
from tests.envs.conda.conftest import write_conda_project
from tests.helpers import run_cli


def _only_run(store: Path) -> Any:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store.as_uri())
    [run] = client.search_runs(experiment_ids=["0"])
    return client, run


@pytest.mark.slow
def test_lock_then_run_frozen_records_the_lock(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.13 reads mlruns/ only so
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    assert run_cli(["lock"], cwd=project.directory).returncode == 0
    chan.remove_repodata(channel)  # the run must not solve
    store = tmp_path / "mlruns"

    result = run_cli(
        ["run", ".", "--frozen"], cwd=project.directory, env={"MLFLOW_TRACKING_URI": store.as_uri()}
    )
    assert result.returncode == 0, result.stderr
    assert "lib version=2.0" in result.stdout

    client, run = _only_run(store)
    tags = run.data.tags
    assert run.info.status == "FINISHED"
    assert tags["mlflow.project.env"] == "conda"
    assert tags["mlproj.env.manager"] == "conda"
    assert tags["mlproj.env.lockfile"] == "used"
    lock_bytes = (project.directory / "conda-lock.yml").read_bytes()
    assert tags["mlproj.env.lock_sha256"] == hashlib.sha256(lock_bytes).hexdigest()
    saved = {a.path for a in client.list_artifacts(run.info.run_id, "environment")}
    assert saved == {"environment/conda-lock.yml", "environment/conda-explicit.txt"}


def test_dry_run_shows_the_conda_plan(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    result = run_cli(["run", ".", "--dry-run", "--json"], cwd=project.directory)
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)["env"]
    assert env["manager"] == "conda" and env["lockfile"]["state"] == "absent"
