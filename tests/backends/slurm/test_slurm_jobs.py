"""`mlproj run -b slurm` against the real one-node Slurm of .ci/setup.d/50-slurm.sh: a run that
logs a metric, a time-limit kill, `scancel` by hand, Ctrl-C of the waiting submitter, a detached
submission followed by `runs wait`, and a job cancelled before it ever started."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from tests.backends.slurm.conftest import (
    mlproj,
    needs_slurm,
    run_json,
    squeue_state,
    write_project,
)
from tests.helpers import start_cli, wait_until

pytestmark = needs_slurm

LOG_METRIC = (
    'python -c \'import mlflow, sys; print("training with", sys.argv[1], flush=True); '
    'mlflow.log_metric("alpha", float(sys.argv[1]))\' {alpha}'
)
SLEEPER = "echo started; sleep 600"


def _submit(tmp_path: Path, command: str, *extra: str) -> tuple[Path, list[str]]:
    project = write_project(tmp_path / "project", command)
    store = tmp_path / "mlruns"
    args = ["run", str(project), "-b", "slurm", "--env-manager", "local"]
    return store, [*args, "--tracking-uri", str(store), *extra]


def _run_id_from(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if "submitted as job" in x)
    return line.split()[2]


def _started(store: Path, run_id: str) -> bool:
    return any(
        p.read_text().startswith("started")
        for p in store.glob(f"*/{run_id}/artifacts/logs/stdout.txt")
    )


def test_a_run_logs_its_metric_and_ends_finished_with_the_job_script_saved(tmp_path: Path) -> None:
    store, args = _submit(tmp_path, LOG_METRIC, "-P", "alpha=0.7", "-c", "time=5")
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "training with 0.7" in done.stdout  # streamed from the job's output file
    run_id = _run_id_from(done.stderr)
    run = run_json(store, run_id, tmp_path)
    assert run["status"] == "FINISHED"
    assert run["metrics"] == {"alpha": 0.7}
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlflow.project.backend"] == "slurm"
    job_id = tags["mlproj.slurm.job_id"]
    artifacts = run["artifacts"]
    assert isinstance(artifacts, list)
    assert {"slurm/job.sh", f"slurm/slurm-{job_id}.out", "logs/stdout.txt"} <= set(artifacts)
    script = next(store.glob(f"*/{run_id}/artifacts/slurm/job.sh")).read_text()
    assert "#SBATCH --time=5" in script and "_exec-run" in script


def test_a_time_limit_kill_ends_the_run_killed_with_slurms_reason(tmp_path: Path) -> None:
    store, args = _submit(tmp_path, SLEEPER, "-c", "time=1")  # Slurm's minimum: 1 min
    done = mlproj(args, tmp_path, timeout=200)
    assert done.returncode == 130, done.stderr
    assert "started" in done.stdout
    run = run_json(store, _run_id_from(done.stderr), tmp_path)
    assert run["status"] == "KILLED"
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlproj.slurm.state"] == "TIMEOUT"


def test_scancel_by_hand_ends_a_detached_run_killed(tmp_path: Path) -> None:
    store, args = _submit(tmp_path, SLEEPER, "--detach")
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    wait_until(lambda: _started(store, run_id), 60, 0.3, what="the job started")
    tags = run_json(store, run_id, tmp_path)["tags"]
    assert isinstance(tags, dict)
    subprocess.run(["scancel", str(tags["mlproj.slurm.job_id"])], check=True)
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "90"], tmp_path
    )
    assert waited.stdout.strip() == "KILLED", waited.stderr
    tags = run_json(store, run_id, tmp_path)["tags"]
    assert isinstance(tags, dict)
    assert tags["mlproj.slurm.state"] == "CANCELLED"


def test_ctrl_c_of_the_waiting_submitter_cancels_the_job(tmp_path: Path) -> None:
    store, args = _submit(tmp_path, SLEEPER)
    submitter = start_cli(args, tmp_path)
    try:
        assert submitter.stdout is not None
        assert submitter.stdout.readline().strip() == "started"  # streamed: the job runs
        submitter.send_signal(signal.SIGINT)
        _out, err = submitter.communicate(timeout=120)
    finally:
        if submitter.poll() is None:
            submitter.kill()
    assert submitter.returncode == 130, err
    assert "cancelling job" in err
    run_id = _run_id_from(err)
    run = run_json(store, run_id, tmp_path)
    assert run["status"] == "KILLED"
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlproj.slurm.state"] == "CANCELLED"
    assert squeue_state(str(tags["mlproj.slurm.job_id"])) == ""  # nothing left in the queue


def test_a_detached_submission_then_runs_wait(tmp_path: Path) -> None:
    store, args = _submit(tmp_path, LOG_METRIC, "-P", "alpha=2", "--detach")
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "120"], tmp_path
    )
    assert waited.returncode == 0, waited.stderr
    assert waited.stdout.strip() == "FINISHED"
    assert run_json(store, run_id, tmp_path)["metrics"] == {"alpha": 2.0}


def test_a_job_cancelled_before_it_started_is_ended_by_runs_wait(tmp_path: Path) -> None:
    # --hold keeps the job pending, so the node step never runs and cannot end the run
    store, args = _submit(tmp_path, SLEEPER, "-c", "sbatch_args=--hold", "--detach")
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    run = run_json(store, run_id, tmp_path)
    assert run["status"] == "SCHEDULED"  # queued, and `runs show` leaves it so
    tags = run["tags"]
    assert isinstance(tags, dict)
    job_id = str(tags["mlproj.slurm.job_id"])
    assert squeue_state(job_id) == "PENDING"
    subprocess.run(["scancel", job_id], check=True)
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "60"], tmp_path
    )
    assert waited.stdout.strip() == "KILLED", waited.stderr
    run = run_json(store, run_id, tmp_path)
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlproj.slurm.state"] == "CANCELLED"
    assert "mlproj.slurm.node" not in tags  # it never ran anywhere


def test_a_project_the_node_cannot_find_ends_the_run_failed_with_the_reason(
    tmp_path: Path,
) -> None:
    store, args = _submit(tmp_path, LOG_METRIC, "-c", "sbatch_args=--hold", "--detach")
    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = done.stdout.strip()
    tags = run_json(store, run_id, tmp_path)["tags"]
    assert isinstance(tags, dict)
    shutil.rmtree(tmp_path / "project")  # gone before the job starts on the node
    subprocess.run(["scontrol", "release", str(tags["mlproj.slurm.job_id"])], check=True)
    waited = mlproj(
        ["runs", "wait", "--tracking-uri", str(store), run_id, "--timeout", "90"], tmp_path
    )
    assert waited.stdout.strip() == "FAILED", waited.stderr
    tags = run_json(store, run_id, tmp_path)["tags"]
    assert isinstance(tags, dict)
    assert "no such project directory" in str(tags["mlproj.error"])
    assert "mlproj.slurm.node" in tags  # the node step ended it, not a later reconcile
