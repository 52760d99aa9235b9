"""`mlproj sweep -b slurm` against the real one-node Slurm of .ci/setup.d/50-slurm.sh: one array
job, a task per combination, children nested under the parent as MLflow's client reads them."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mlflow.entities import Run

from tests.backends.slurm.conftest import mlproj, needs_slurm, squeue_state
from tests.helpers import start_cli, wait_until

pytestmark = needs_slurm

# score = a * b; the combination whose score is 10 exits 1 after logging it
SCORE = (
    "python -c 'import mlflow, sys; a, b = float(sys.argv[1]), float(sys.argv[2]); "
    'mlflow.log_metric("score", a * b); sys.exit(1 if a * b == 10 else 0)\' {a} {b}'
)


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(
        "name: grid\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      a: {type: float, default: 1}\n"
        "      b: {type: float, default: 1}\n"
        f"    command: {json.dumps(SCORE)}\n"
    )
    return root


def _sweep(tmp_path: Path, *grid: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    store = tmp_path / "mlruns"
    args = ["sweep", str(_project(tmp_path / "project")), *grid, "-b", "slurm"]
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "time=5"]
    args += ["--metric", "score", "--maximize", "--json"]
    return mlproj(args, tmp_path), store


def _children(store: Path, parent_id: str) -> list[Run]:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(store.as_uri())
    return list(client.search_runs(["0"], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'"))


def test_a_grid_is_one_array_job_with_finished_children_under_a_finished_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow >= 3.13 reads mlruns/ only so
    from mlflow.tracking import MlflowClient

    done, store = _sweep(tmp_path, "-P", "a=1,2", "-P", "b=3,4")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    parent_id = out["parent_run_id"]
    parent = MlflowClient(store.as_uri()).get_run(parent_id)
    assert parent.info.status == "FINISHED"
    job_id = parent.data.tags["mlproj.slurm.job_id"]
    assert parent.data.tags["mlflow.project.backend"] == "slurm"
    script = next(store.glob(f"*/{parent_id}/artifacts/slurm/job.sh")).read_text()
    assert "#SBATCH --array=0-3\n" in script
    assert script.count("_exec-run") == 1  # one job; its task picks its run

    children = _children(store, parent_id)
    assert len(children) == 4
    by_params = {}
    for child in children:
        info, data = child.info, child.data
        assert info.status == "FINISHED"
        assert data.tags["mlproj.slurm.job_id"].split("_")[0] == job_id  # a task of that job
        assert data.metrics["score"] == float(data.params["a"]) * float(data.params["b"])
        by_params[(data.params["a"], data.params["b"])] = info.run_id
    assert set(by_params) == {("1", "3"), ("1", "4"), ("2", "3"), ("2", "4")}
    assert len({c.data.tags["mlproj.slurm.job_id"] for c in children}) == 4

    best = by_params[("2", "4")]  # score 8: the highest
    assert out["best_run_id"] == best
    assert out["runs"][0]["run_id"] == best and out["runs"][0]["metric"] == 8.0
    assert parent.data.tags["mlproj.sweep.best_run_id"] == best
    table = next(store.glob(f"*/{parent_id}/artifacts/sweep/table.txt")).read_text()
    assert table.splitlines()[1].split()[1] == best  # the first row under the header


def test_a_failing_combination_fails_the_parent_and_the_others_still_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    done, store = _sweep(tmp_path, "-P", "a=2", "-P", "b=3,5", "-j", "1")  # 2*5 = 10 fails
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    parent_id = out["parent_run_id"]
    assert MlflowClient(store.as_uri()).get_run(parent_id).info.status == "FAILED"
    script = next(store.glob(f"*/{parent_id}/artifacts/slurm/job.sh")).read_text()
    assert "#SBATCH --array=0-1%1\n" in script  # --jobs 1: Slurm's throttle
    statuses = {c.data.params["b"]: c.info.status for c in _children(store, parent_id)}
    assert statuses == {"3": "FINISHED", "5": "FAILED"}
    assert out["best_run_id"] is not None  # the FINISHED one (score 6)
    assert {r["status"] for r in out["runs"]} == {"FINISHED", "FAILED"}


def test_backend_config_without_slurm_is_refused(tmp_path: Path) -> None:
    args = ["sweep", str(_project(tmp_path / "project")), "-P", "a=1,2", "-c", "time=5"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 2
    assert "-c/--backend-config needs -b slurm" in done.stderr


def test_ctrl_c_cancels_the_array_job_and_kills_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: sleeper\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters: {a: {type: float, default: 1}}\n"
        '    command: "echo started {a}; sleep 600"\n'
    )
    store = tmp_path / "mlruns"
    args = ["sweep", str(project), "-P", "a=1,2", "-b", "slurm", "-j", "1"]  # one runs, one waits
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "time=5"]
    submitter = start_cli(args, tmp_path)
    try:
        wait_until(
            lambda: any(
                p.read_text().startswith("started")
                for p in store.glob("*/*/artifacts/logs/stdout.txt")
            ),
            timeout=120,
            what="the first task runs",
            process=submitter,
        )
        submitter.send_signal(signal.SIGINT)
        _out, err = submitter.communicate(timeout=120)
    finally:
        if submitter.poll() is None:
            submitter.kill()
    assert submitter.returncode == 130, err
    assert "cancelling array job" in err
    parent_id = next(x for x in err.splitlines() if "submitted as array job" in x).split()[2]
    parent_id = parent_id.rstrip(":")
    client = MlflowClient(store.as_uri())
    parent = client.get_run(parent_id)
    assert parent.info.status == "KILLED"
    children = _children(store, parent_id)
    assert [c.info.status for c in children] == ["KILLED", "KILLED"]
    assert squeue_state(parent.data.tags["mlproj.slurm.job_id"]) == ""  # nothing left queued


def test_a_job_sbatch_refuses_ends_the_parent_and_every_child_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    store = tmp_path / "mlruns"
    args = ["sweep", str(_project(tmp_path / "project")), "-P", "a=1,2", "-b", "slurm"]
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "mem=9999999G"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 1
    assert "sbatch refused the job" in done.stderr and "Traceback" not in done.stderr
    runs = MlflowClient(store.as_uri()).search_runs(["0"])
    assert len(runs) == 3  # the parent and its two children, none left RUNNING
    assert {r.info.status for r in runs} == {"FAILED"}
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    assert "sbatch refused the job" in parent.data.tags["mlproj.error"]


def test_fail_fast_cancels_the_tasks_still_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        "name: failfast\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters: {b: {type: string, default: x}}\n"
        '    command: "test {b} != bad || exit 1; sleep 120"\n'
    )
    store = tmp_path / "mlruns"
    # one task at a time: b=bad fails first, so b=ok is still pending (or sleeping) when it does
    args = ["sweep", str(project), "-P", "b=bad,ok", "-j", "1", "--fail-fast", "-b", "slurm"]
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "time=5", "--json"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "a run failed: cancelling array job" in done.stderr
    out = json.loads(done.stdout)
    statuses = {c.data.params["b"]: c.info.status for c in _children(store, out["parent_run_id"])}
    assert statuses == {"bad": "FAILED", "ok": "KILLED"}


def test_dry_run_says_one_array_job_and_the_throttle(tmp_path: Path) -> None:
    project = str(_project(tmp_path / "project"))
    args = ["sweep", project, "-P", "a=1,2", "-b", "slurm", "--env-manager", "local", "--dry-run"]
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 runs as one Slurm array job, as many at a time as Slurm allows" in done.stdout
    done = mlproj([*args, "-j", "1", "--json"], tmp_path)
    assert json.loads(done.stdout)["jobs"] == 1
    assert not (tmp_path / "mlruns").exists()  # nothing recorded
