"""`mlproj runs list` ends the Slurm runs whose jobs left the queue without the node step ending
them (cancelled while pending), asking Slurm once for all of them; it leaves ended runs and
local runs alone without calling Slurm, and lists as recorded, with one warning, when Slurm
cannot be asked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.backends.slurm.conftest import (
    mlproj,
    needs_slurm,
    run_json,
    squeue_state,
    write_project,
)
from tests.helpers import run_cli

SLURM_TOOLS = ("sacct", "sbatch", "scancel", "scontrol", "sinfo", "squeue")


@pytest.fixture(autouse=True)
def _file_store_for_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.13 reads mlruns/ only so


def _held_run(tmp_path: Path, store: Path, name: str) -> tuple[str, str]:
    """A detached run whose job Slurm holds in the queue: (run id, job id)."""
    project = write_project(tmp_path / name, "echo never", name=name)
    args = ["run", str(project), "-b", "slurm", "--env-manager", "local", "--detach"]
    args += ["--tracking-uri", str(store), "-c", "sbatch_args=--hold", "-c", "time=5"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    tags = run_json(store, run_id, tmp_path)["tags"]  # pending: `runs show` leaves it so
    assert isinstance(tags, dict)
    job_id = str(tags["mlproj.slurm.job_id"])
    assert squeue_state(job_id) == "PENDING"
    return run_id, job_id


def _counting_tools(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A PATH whose Slurm commands log each call, then run the real one; (env, the log)."""
    bin_dir = tmp_path / "counting-bin"
    bin_dir.mkdir()
    log = tmp_path / "slurm-calls.log"
    for tool in SLURM_TOOLS:
        real = shutil.which(tool)
        assert real is not None, tool
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> {log}\nexec {real} "$@"\n')
        script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}, log


def _calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _list(
    store: Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(["runs", "list", "--tracking-uri", str(store), "--json"], cwd=cwd, env=env)


def _listed(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return {r["run_id"]: r["status"] for r in json.loads(done.stdout)}


def _stored(store: Path, run_id: str) -> tuple[str, int | None, dict[str, str]]:
    """Status, end time and tags as MLflow's own client reads the store (not `runs show`, which
    would reconcile the run itself)."""
    from mlflow.tracking import MlflowClient

    run = MlflowClient(store.as_uri()).get_run(run_id)
    return run.info.status, run.info.end_time, dict(run.data.tags)


def _scancel(job_id: str) -> None:
    subprocess.run(["scancel", job_id], check=False, timeout=30)


@needs_slurm
def test_jobs_cancelled_while_pending_end_killed_in_one_squeue_call(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    cancelled, cancelled_job = _held_run(tmp_path, store, "first")
    queued, queued_job = _held_run(tmp_path, store, "second")
    try:
        env, log = _counting_tools(tmp_path)
        assert _listed(_list(store, tmp_path, env)) == {cancelled: "SCHEDULED", queued: "SCHEDULED"}
        _scancel(cancelled_job)
        assert _stored(store, cancelled)[0] == "SCHEDULED"  # nothing ended it yet
        log.unlink(missing_ok=True)

        assert _listed(_list(store, tmp_path, env)) == {cancelled: "KILLED", queued: "SCHEDULED"}
        squeue = [c for c in _calls(log) if c.startswith("squeue ")]
        assert len(squeue) == 1, _calls(log)  # one question for both runs
        argv = squeue[0].split()
        assert {cancelled_job, queued_job} <= set(argv[argv.index("-j") + 1].split(","))
        status, end_time, tags = _stored(store, cancelled)
        assert (status, tags["mlproj.slurm.state"]) == ("KILLED", "CANCELLED")
        assert end_time is not None
        assert "mlproj.slurm.node" not in tags  # it never ran: the listing ended it
        assert _stored(store, queued)[:2] == ("SCHEDULED", None)

        done = run_cli(["runs", "list", "--tracking-uri", str(store)], cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        row = next(line for line in done.stdout.splitlines() if line.startswith(cancelled[:8]))
        assert "KILLED" in row.split()
    finally:
        _scancel(queued_job)


def _slurm_end_ms(job_id: str) -> int:
    """The job's EndTime as scontrol prints it (local time), in ms since the epoch."""
    done = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
        env={**os.environ, "SLURM_TIME_FORMAT": "standard"},
    )
    fields = dict(item.split("=", 1) for item in done.stdout.split() if "=" in item)
    return int(datetime.strptime(fields["EndTime"], "%Y-%m-%dT%H:%M:%S").timestamp()) * 1000


@needs_slurm
def test_a_run_cancelled_while_pending_ends_when_slurm_ended_it(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    run_id, job_id = _held_run(tmp_path, store, "held")
    time.sleep(1)  # Slurm's end (whole seconds) then falls after the run's start (ms)
    before = time.time()
    _scancel(job_id)
    after = time.time()
    slurm_end = _slurm_end_ms(job_id)  # read now: Slurm forgets the job after MinJobAge
    assert before - 1 <= slurm_end / 1000 <= after  # Slurm counts whole seconds
    time.sleep(3)  # the listing comes later than the end

    # the user's own time format does not confuse the reading
    listed_at = time.time()
    done = _list(store, tmp_path, {"SLURM_TIME_FORMAT": "relative"})
    assert _listed(done) == {run_id: "KILLED"}
    from mlflow.tracking import MlflowClient

    info = MlflowClient(store.as_uri()).get_run(run_id).info
    assert info.start_time is not None and info.end_time is not None
    assert info.end_time == slurm_end > info.start_time  # not the listing's time
    assert info.end_time < (listed_at - 2) * 1000
    show = run_json(store, run_id, tmp_path)
    assert show["end_time"] == info.end_time, show


@needs_slurm
def test_without_slurm_tools_or_controller_the_list_warns_and_changes_nothing(
    tmp_path: Path,
) -> None:
    store = tmp_path / "mlruns"
    run_id, job_id = _held_run(tmp_path, store, "held")
    _scancel(job_id)
    no_tools = {"PATH": str(tmp_path / "empty-bin")}  # python runs by its full path
    done = _list(store, tmp_path, no_tools)
    assert _listed(done) == {run_id: "SCHEDULED"}
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "squeue not found" in warnings[0], done.stderr
    assert "Traceback" not in done.stderr

    source = Path(os.environ.get("SLURM_CONF", "/etc/slurm/slurm.conf")).read_text()
    unreachable = tmp_path / "slurm.conf"  # the same cluster, a port no controller listens on
    unreachable.write_text(
        "\n".join(
            "SlurmctldPort=1" if line.startswith("SlurmctldPort=") else line
            for line in source.splitlines()
        )
        + "\n"
    )
    done = _list(store, tmp_path, {"SLURM_CONF": str(unreachable)})
    assert _listed(done) == {run_id: "SCHEDULED"}
    warnings = [line for line in done.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "squeue failed" in warnings[0], done.stderr
    assert _stored(store, run_id)[:2] == ("SCHEDULED", None)  # the store was left alone

    assert _listed(_list(store, tmp_path)) == {run_id: "KILLED"}  # Slurm back: ended now


@needs_slurm
def test_ended_and_local_runs_are_listed_without_asking_slurm(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    project = write_project(tmp_path / "project", "echo hello")
    args = ["run", str(project), "--env-manager", "local", "--tracking-uri", str(store)]
    done = mlproj([*args, "-b", "slurm", "-c", "time=5"], tmp_path)
    assert done.returncode == 0, done.stderr
    local = mlproj(args, tmp_path)
    assert local.returncode == 0, local.stderr
    runs = _listed(_list(store, tmp_path))
    assert sorted(runs.values()) == ["FINISHED", "FINISHED"]
    before = {run_id: _stored(store, run_id) for run_id in runs}

    env, log = _counting_tools(tmp_path)
    assert _listed(_list(store, tmp_path, env)) == runs
    assert _calls(log) == []
    assert {run_id: _stored(store, run_id) for run_id in runs} == before


def test_listing_local_runs_imports_no_cluster_backend(tmp_path: Path) -> None:
    store = tmp_path / "mlruns"
    project = write_project(tmp_path / "project", "echo hello")
    done = run_cli(
        ["run", str(project), "--env-manager", "local", "--tracking-uri", str(store)], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    argv = [sys.executable, "-X", "importtime", "-m", "mlproj", "runs", "list"]
    listed = subprocess.run(
        [*argv, "--tracking-uri", str(store)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "FINISHED" in listed.stdout
    assert "mlproj.backends" in listed.stderr  # the table, light
    assert "mlproj.backends.slurm" not in listed.stderr
    assert "mlproj.backends.kubernetes" not in listed.stderr
