"""Helpers for end-to-end `mlproj run` tests: small projects and a file store to read back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# Re-exported for tests written before tests/helpers/ existed; new code imports tests.helpers.
from tests.helpers import write_project as write_project


def mlflow_client(store: Path) -> Any:
    """The real MLflow client reading our file store (as a user's MLflow tools would)."""
    import os

    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=store.as_uri())


def only_run(store: Path) -> Any:
    client = mlflow_client(store)
    runs = client.search_runs(experiment_ids=["0"])
    assert len(runs) == 1, [r.info.run_id for r in runs]
    return runs[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "mlruns"
