"""The bundled example submitted to the real Slurm with `-b slurm`, from a git URL, in a
virtualenv the node builds from its conda.yml, tracked in a file store with its logs in the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backends.slurm.conftest import mlproj, needs_slurm, run_json
from tests.examples.test_example_end_to_end import _example_repo

pytestmark = [needs_slurm, pytest.mark.examples, pytest.mark.slow]


def test_the_example_trains_on_slurm(tmp_path: Path) -> None:
    url = f"{_example_repo(tmp_path).as_uri()}#cnn_project"
    store = tmp_path / "mlruns"
    args = ["run", url, "-b", "slurm", "--env-manager", "virtualenv", "-P", "epochs=1"]
    done = mlproj([*args, "--tracking-uri", str(store)], tmp_path, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 1/1" in done.stdout  # streamed from the job
    run_id = next(x for x in done.stderr.splitlines() if "submitted as job" in x).split()[2]
    run = run_json(store, run_id, tmp_path)
    assert run["status"] == "FINISHED"
    tags = run["tags"]
    assert isinstance(tags, dict)
    assert tags["mlflow.project.backend"] == "slurm"
    assert tags["mlflow.project.env"] == "virtualenv"
    assert tags["mlflow.source.git.commit"]
    metrics = run["metrics"]
    assert isinstance(metrics, dict)
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(metrics)
    artifacts = run["artifacts"]
    assert isinstance(artifacts, list)
    job = tags["mlproj.slurm.job_id"]
    expected = {"model.pt", "logs/stdout.txt", "slurm/job.sh", f"slurm/slurm-{job}.out"}
    assert expected <= set(artifacts)
