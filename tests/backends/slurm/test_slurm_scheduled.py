"""A run queued by Slurm is SCHEDULED, as MLflow's RunStatus has it, until `mlproj _exec-run`
starts it on the node (RUNNING); held jobs (`sbatch --hold`) keep it queued on demand."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from tests.backends.slurm.conftest import (
    mlproj,
    needs_slurm,
    run_json,
    squeue_state,
    write_project,
)
from tests.helpers import start_cli, wait_until

pytestmark = needs_slurm


def _gated(gate: Path) -> str:
    """Print `started`, then wait (at most 3 min) until the test creates `gate`."""
    return f"echo started; for i in $(seq 900); do [ -e {gate} ] && exit 0; sleep 0.2; done; exit 1"


def _status(store: Path, run_id: str, cwd: Path) -> str:
    return str(run_json(store, run_id, cwd)["status"])


def _listed(store: Path, cwd: Path) -> dict[str, str]:
    done = mlproj(["runs", "list", "--tracking-uri", str(store), "--json"], cwd)
    assert done.returncode == 0, done.stderr
    return {r["run_id"]: r["status"] for r in json.loads(done.stdout)}


def _mlflow_status(store: Path, run_id: str) -> str:
    """As MLflow's own client (the one behind `mlflow ui`) reads the store."""
    from mlflow.tracking import MlflowClient

    return str(MlflowClient(store.as_uri()).get_run(run_id).info.status)


def test_a_held_job_is_scheduled_then_running_once_released_then_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.13 reads mlruns/ only so
    gate = tmp_path / "go"
    project = write_project(tmp_path / "project", _gated(gate))
    store = tmp_path / "mlruns"
    args = ["run", str(project), "-b", "slurm", "--env-manager", "local"]
    args += ["--tracking-uri", str(store), "-c", "sbatch_args=--hold", "-c", "time=5", "--detach"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    tags = run_json(store, run_id, tmp_path)["tags"]
    assert isinstance(tags, dict)
    job_id = str(tags["mlproj.slurm.job_id"])
    assert squeue_state(job_id) == "PENDING"
    # queued: SCHEDULED everywhere, and neither list, show nor wait ends it
    assert _status(store, run_id, tmp_path) == "SCHEDULED"
    assert _mlflow_status(store, run_id) == "SCHEDULED"
    assert _listed(store, tmp_path)[run_id] == "SCHEDULED"
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "3"], tmp_path
    )
    assert (waited.returncode, waited.stdout.strip()) == (1, "SCHEDULED"), waited.stderr
    assert "still SCHEDULED" in waited.stderr
    assert squeue_state(job_id) == "PENDING" and _status(store, run_id, tmp_path) == "SCHEDULED"

    subprocess.run(["scontrol", "release", job_id], check=True)
    wait_until(
        lambda: _status(store, run_id, tmp_path) == "RUNNING", 90, 0.5, what="the node started it"
    )
    assert _mlflow_status(store, run_id) == "RUNNING"
    assert _listed(store, tmp_path)[run_id] == "RUNNING"
    gate.touch()
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "90"], tmp_path
    )
    assert (waited.returncode, waited.stdout.strip()) == (0, "FINISHED"), waited.stderr
    assert _mlflow_status(store, run_id) == "FINISHED"


def test_sweep_children_held_back_by_the_throttle_stay_scheduled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-j 1`: task 1 waits in the queue (JobArrayTaskLimit) while task 0 runs."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    gate = tmp_path / "go"
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: gated\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      a: {type: float, default: 1}\n"
        f"    command: {json.dumps(_gated(gate) + ' # {a}')}\n"
    )
    store = tmp_path / "mlruns"
    args = ["sweep", str(project), "-P", "a=1,2", "-b", "slurm", "-j", "1", "--json"]
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "time=5"]
    sweep = start_cli(args, tmp_path)
    client = MlflowClient(store.as_uri())

    def statuses() -> dict[str, str]:
        if not store.exists():
            return {}
        runs = client.search_runs(["0"], filter_string="tags.`mlproj.sweep.index` != ''")
        return {r.data.params.get("a", ""): r.info.status for r in runs}

    try:
        seen = wait_until(
            lambda: (s := statuses()).get("1") == "RUNNING" and s,
            120,
            0.5,
            what="the first task runs",
            process=sweep,
        )
        assert seen == {"1": "RUNNING", "2": "SCHEDULED"}
        gate.touch()
        out, err = sweep.communicate(timeout=180)
    finally:
        if sweep.poll() is None:  # a failed check: Ctrl-C cancels the array job
            sweep.send_signal(signal.SIGINT)
            try:
                sweep.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                sweep.kill()
                sweep.communicate()
    assert sweep.returncode == 0, err
    assert json.loads(out)["status"] == "FINISHED"
    assert statuses() == {"1": "FINISHED", "2": "FINISHED"}
