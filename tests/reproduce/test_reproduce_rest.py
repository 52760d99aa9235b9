"""A colleague pastes the MLflow UI link of a run on the team's server: `mlproj reproduce URL`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.run.conftest import write_project
from tests.tracking.conftest import mlflow_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("reproduce-rest-server")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


def test_reproduce_a_ui_url_of_a_snapshot_run_on_a_tracking_server(
    tmp_path: Path, server: str
) -> None:
    from mlflow.tracking import MlflowClient

    project = write_project(
        tmp_path / "proj",
        """
        entry_points:
          main:
            parameters: {n: {type: int, default: 4}}
            command: "python train.py {n}"
        """,
        {
            "train.py": """
            import sys, mlflow
            n = int(sys.argv[1])
            with mlflow.start_run():
                mlflow.log_metric("score", sum(1 / k for k in range(1, n + 1)))
            """
        },
    )
    first = run_cli(
        ["run", str(project), "--env-manager", "local", "--snapshot", "--tracking-uri", server]
    )
    assert first.returncode == 0, first.stderr
    run_id = next(x for x in first.stderr.splitlines() if x.startswith("mlproj: run ")).split()[2]
    client = MlflowClient(tracking_uri=server)
    experiment = client.get_run(run_id).info.experiment_id
    (project / "train.py").write_text("raise SystemExit('the directory changed')\n")

    url = f"{server}/#/experiments/{experiment}/runs/{run_id}"
    again = run_cli(["reproduce", url], cwd=tmp_path, env={"MLPROJ_HOME": str(tmp_path / "h")})
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reproduced (bit-identical)" in again.stdout
    (new,) = [
        r
        for r in client.search_runs([experiment])
        if r.data.tags.get("mlproj.reproduces") == run_id
    ]
    assert new.data.metrics["score"] == client.get_run(run_id).data.metrics["score"]
