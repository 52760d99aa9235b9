"""The final status comes from the exit code, whatever the child's own mlflow wrote (as in
`mlflow run`): the corpus's status cases run for real with the real mlflow package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.run.conftest import mlflow_client
from tests.spec.corpus import CASES, PROJECTS

STATUS_RUNS = [(case.name, *row) for case in CASES for row in case.statuses]


# Each entry point imports mlflow (seconds). The fast lane keeps the exit code -> status rule
# without it: test_run_local.py (FAILED, exit 3) and test_run_signals.py (KILLED).
@pytest.mark.slow
@pytest.mark.parametrize(
    ("project", "entry_point", "status", "code"), STATUS_RUNS, ids=[r[1] for r in STATUS_RUNS]
)
def test_status_follows_the_exit_code(
    project: str, entry_point: str, status: str, code: int, tmp_path: Path
) -> None:
    store = tmp_path / "mlruns"
    args = ["run", str(PROJECTS / project), "-e", entry_point, "--tracking-uri", str(store)]
    result = run_cli(args, env={"MLFLOW_ALLOW_FILE_STORE": "true"})
    assert result.returncode == code, result.stderr
    assert f"run {_only(store).info.run_id} {status}" in result.stderr
    run = _only(store)
    assert run.info.status == status
    assert run.data.metrics["m"] == 1  # the child really logged into this run
    child_code = -9 if status == "KILLED" else code
    assert run.data.tags["mlproj.exit_code"] == str(child_code)


def _only(store: Path):  # type: ignore[no-untyped-def]
    runs = mlflow_client(store).search_runs(experiment_ids=["0"])
    assert len(runs) == 1
    return runs[0]
