"""`--dry-run -b slurm` prints the job script and the sbatch command line: the script is the one
a real submission writes as its `slurm/job.sh` artifact, once the placeholders for ids that
only creating the runs decides are filled in."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from mlproj.commands.jobtext import BEGIN, END
from tests.backends.slurm.conftest import mlproj, needs_slurm, write_project

COMMAND = "echo alpha is {alpha}"


def _printed_script(stdout: str) -> str:
    """The text between the marker lines, as `run --dry-run` prints it."""
    lines = stdout.splitlines(keepends=True)
    start = lines.index(BEGIN + "\n")
    end = lines.index(END + "\n")
    return "".join(lines[start + 1 : end])


def _dry_run(args: list[str], cwd: Path) -> dict[str, str]:
    done = mlproj([*args, "--dry-run", "--json"], cwd)
    assert done.returncode == 0, done.stderr
    job: dict[str, str] = json.loads(done.stdout)["job"]
    text = mlproj([*args, "--dry-run"], cwd)
    assert text.returncode == 0, text.stderr
    assert _printed_script(text.stdout) == job["script"]  # verbatim in the text form too
    assert f"sbatch command: {job['sbatch']}" in text.stdout
    return job


@needs_slurm
@pytest.mark.parametrize("experiment", [None, "fresh"])
def test_the_dry_run_script_is_the_one_a_submission_writes(
    tmp_path: Path, experiment: str | None
) -> None:
    project = write_project(tmp_path / "project", COMMAND)
    store = tmp_path / "mlruns"
    args = ["run", str(project), "-b", "slurm", "--env-manager", "local", "-P", "alpha=0.7"]
    args += ["--tracking-uri", str(store), "-c", "time=5", "-c", "cpus=1"]
    args += ["--experiment-name", experiment] if experiment else []
    job = _dry_run(args, tmp_path)
    assert not store.exists()  # no run, no experiment, no store
    assert "<run-id>" in job["placeholders"]
    assert ("<experiment-id>" in job["placeholders"]) == (experiment is not None)

    done = mlproj(args, tmp_path)
    assert done.returncode == 0, done.stderr
    run_id = next(x for x in done.stderr.splitlines() if "submitted as job" in x).split()[2]
    [written] = store.glob(f"*/{run_id}/artifacts/slurm/job.sh")
    experiment_id = written.parents[3].name
    expected = written.read_text().replace(run_id, "<run-id>")
    if experiment:
        expected = expected.replace(f"/{experiment_id}/", "/<experiment-id>/")
    assert job["script"] == expected
    filled = job["sbatch"].replace("<run-id>", run_id).replace("<experiment-id>", experiment_id)
    assert shlex.split(filled) == ["sbatch", "--parsable", str(written)]


@needs_slurm
def test_the_sweep_dry_run_script_is_the_array_job_a_sweep_writes(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", COMMAND)
    store = tmp_path / "mlruns"
    args = ["sweep", str(project), "-P", "alpha=1,2", "-b", "slurm", "-j", "1"]
    args += ["--env-manager", "local", "--tracking-uri", str(store), "-c", "time=5"]
    job = _dry_run(args, tmp_path)
    assert not store.exists()
    assert {"<sweep-run-id>", "<run-id-N>"} <= set(job["placeholders"])

    done = mlproj([*args, "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    parent = json.loads(done.stdout)["parent_run_id"]
    [written] = store.glob(f"*/{parent}/artifacts/slurm/job.sh")
    expected = written.read_text().replace(parent, "<sweep-run-id>")
    for index_tag in store.glob("*/*/tags/mlproj.sweep.index"):
        child = index_tag.parents[1].name
        expected = expected.replace(child, f"<run-id-{index_tag.read_text()}>")
    assert "#SBATCH --array=0-1%1" in expected
    assert job["script"] == expected


def test_the_dry_run_script_hides_secrets_and_needs_no_store(tmp_path: Path) -> None:
    """A tracking server's password and `-A env=NAME=value` values never reach the output,
    and an unreachable server leaves the output directory as a placeholder that says why."""
    project = write_project(tmp_path / "project", COMMAND)
    args = ["run", str(project), "-b", "slurm", "--env-manager", "local"]
    args += ["--tracking-uri", "http://bob:hunter2@127.0.0.1:9/", "-A", "env=TOKEN=sesame"]
    for extra in ([], ["--json"]):
        done = mlproj([*args, "--dry-run", *extra], tmp_path)
        assert done.returncode == 0, done.stderr
        assert "hunter2" not in done.stdout and "sesame" not in done.stdout
        assert "TOKEN=***" in done.stdout and "http://***@127.0.0.1:9/" in done.stdout
        assert "#SBATCH --chdir=<output-dir>" in done.stdout
        assert "cannot reach tracking server" in done.stdout
    assert list(tmp_path.iterdir()) == [tmp_path / "project"]


@needs_slurm
@pytest.mark.slow  # starts a real `mlflow server`
def test_with_a_tracking_server_the_dry_run_asks_it_where_the_artifacts_go(
    tmp_path: Path,
) -> None:
    """Artifacts proxied by the server (mlflow-artifacts:) are not a path the job can write to:
    the output goes to ~/.mlproj/slurm/RUN_ID, which the dry run knows by asking the server."""
    from tests.tracking.conftest import mlflow_server

    project = write_project(tmp_path / "project", COMMAND)
    env = {**os.environ, "HOME": str(tmp_path / "home")}  # the job's output lands under it
    with mlflow_server(
        f"sqlite:///{tmp_path / 'server' / 'mlflow.db'}", tmp_path / "server"
    ) as url:
        args = [sys.executable, "-m", "mlproj", "run", str(project), "-b", "slurm"]
        args += ["--env-manager", "local", "--tracking-uri", url, "-c", "time=5"]
        dry = subprocess.run(
            [*args, "--dry-run", "--json"], cwd=tmp_path, env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )  # fmt: skip
        assert dry.returncode == 0, dry.stderr
        job = json.loads(dry.stdout)["job"]
        assert "<output-dir>" not in job["placeholders"]
        done = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False
        )
    assert done.returncode == 0, done.stderr
    run_id = next(x for x in done.stderr.splitlines() if "submitted as job" in x).split()[2]
    written = tmp_path / "home" / ".mlproj" / "slurm" / run_id / "job.sh"
    assert job["script"] == written.read_text().replace(run_id, "<run-id>")
    assert shlex.split(job["sbatch"].replace("<run-id>", run_id))[-1] == str(written)
