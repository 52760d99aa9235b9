"""Shared fixtures: an isolated cache root and tracking store for every test."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

# Re-exported for tests written before tests/helpers/ existed; new code imports tests.helpers.
from tests.helpers import run_cli as run_cli


def pytest_configure(config: pytest.Config) -> None:
    """Tests that press Ctrl-C send SIGINT to the mlproj they started. A suite started as a
    background job of a non-interactive shell (`bash .ci/run &`) inherits SIGINT ignored, and
    every child would inherit that too: interrupt them as a terminal would."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


REPO_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = Path(__file__).resolve().parent / "resources"


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own MLPROJ_HOME and no inherited tracking/experiment variables."""
    home = tmp_path_factory.mktemp("mlproj-home")
    monkeypatch.setenv("MLPROJ_HOME", str(home))
    for var in (
        "MLFLOW_TRACKING_URI",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
        "MLFLOW_RUN_ID",
        # set in-process by tests that read a file store with MLflow's client; a later test
        # (e.g. one checking which MLFLOW_* variables reach a container) must not inherit it
        "MLFLOW_ALLOW_FILE_STORE",
        # the width of `mlproj runs` tables: a test's pipe has none unless it sets one (a
        # developer's shell, or pytest-xdist's workers, may export them)
        "COLUMNS",
        "LINES",
    ):
        monkeypatch.delenv(var, raising=False)
    return home
