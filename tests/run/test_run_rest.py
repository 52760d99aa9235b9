"""`mlproj run` against a team's MLflow server (REST): the child logs into our run, the logs
are uploaded as artifacts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli, write_project
from tests.tracking.conftest import mlflow_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("run-rest-server")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


@pytest.mark.slow  # starts a real `mlflow server` (seconds)
def test_run_against_a_tracking_server(tmp_path: Path, server: str) -> None:
    from mlflow.tracking import MlflowClient

    proj = write_project(
        tmp_path / "proj",
        """
        entry_points:
          main:
            parameters: {lr: {type: float, default: 0.1}}
            command: "python train.py {lr}"
        """,
        {
            "train.py": """
            import sys, mlflow
            print("training with", sys.argv[1])
            with mlflow.start_run():
                mlflow.log_metric("acc", 0.75, step=1)
            """
        },
    )
    result = run_cli(
        [
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            server,
            "--experiment-name",
            "team",
            "-P",
            "lr=0.01",
        ]
    )
    assert result.returncode == 0, result.stderr
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_experiment_by_name("team")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"lr": "0.01"}
    assert run.data.metrics == {"acc": 0.75}
    logs = run_cli(["runs", "logs", run.info.run_id, "--tracking-uri", server])
    assert "training with 0.01" in logs.stdout
