"""The bundled example, run by mlproj from a git URL in a virtualenv built from its conda.yml,
the way the README tells a new user to run it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.helpers import run_cli
from tests.run.conftest import mlflow_client
from tests.sources.gitrepos import git

pytestmark = [pytest.mark.examples, pytest.mark.slow]


def _example_repo(tmp_path: Path) -> Path:
    work = tmp_path / "example-repo"
    shutil.copytree(
        REPO_ROOT / "examples" / "cnn_project",
        work / "cnn_project",
        ignore=shutil.ignore_patterns("mlruns", "__pycache__"),
    )
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "example", cwd=work)
    return work


def test_example_runs_from_a_git_url_and_is_reproducible(tmp_path: Path) -> None:
    url = f"{_example_repo(tmp_path).as_uri()}#cnn_project"
    store = tmp_path / "mlruns"
    args = [
        "run",
        url,
        "--env-manager",
        "virtualenv",
        "-P",
        "epochs=1",
        "--tracking-uri",
        str(store),
    ]
    first = run_cli(args, timeout=1200)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run_cli(args, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]

    client = mlflow_client(store)
    runs = client.search_runs(["0"], order_by=["attributes.start_time ASC"])
    assert [r.info.status for r in runs] == ["FINISHED", "FINISHED"]
    run = runs[0]
    assert run.data.params["epochs"] == "1"
    assert run.data.params["seed"] == "42"
    assert run.data.tags["mlflow.project.env"] == "virtualenv"
    assert run.data.tags["mlflow.source.git.commit"]
    for key in ("train_loss", "val_loss", "val_accuracy"):
        history = client.get_metric_history(run.info.run_id, key)
        assert [m.step for m in history] == [1]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"model.pt", "confusion_matrix.png", "logs", "environment"} <= artifacts
    logs = run_cli(["runs", "logs", run.info.run_id, "--tracking-uri", str(store)])
    assert "epoch 1/1" in logs.stdout

    # same seed, same metrics: what a later `reproduce` relies on
    assert runs[1].data.metrics == run.data.metrics

    # the validate entry point evaluates the saved model
    model = store / "0" / run.info.run_id / "artifacts" / "model.pt"
    checked = run_cli(
        [
            "run",
            url,
            "--env-manager",
            "virtualenv",
            "-e",
            "validate",
            "-P",
            f"model_path={model}",
            "--tracking-uri",
            str(store),
        ],
        timeout=600,
    )
    assert checked.returncode == 0, checked.stderr[-3000:]
