"""Choosing the tracking URI and the store, and what importing the package costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlproj.errors import TrackingError
from mlproj.tracking import open_store, resolve_tracking_uri
from mlproj.tracking.stores.file import FileStore
from mlproj.tracking.stores.rest import RestStore


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path.resolve()


def test_the_default_is_an_absolute_mlruns_in_the_current_directory(in_tmp: Path) -> None:
    assert resolve_tracking_uri(None) == (in_tmp / "mlruns").as_uri()


def test_the_environment_beats_the_default(in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert resolve_tracking_uri(None) == "http://127.0.0.1:5000"


def test_the_command_line_beats_the_environment(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert resolve_tracking_uri("other/runs") == (in_tmp / "other" / "runs").as_uri()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("./mlruns", "file://{tmp}/mlruns"),
        ("file:rel/store", "file://{tmp}/rel/store"),
        ("file:///abs/mlruns", "file:///abs/mlruns"),
        ("sqlite:///mlflow.db", "sqlite:///{tmp}/mlflow.db"),
        ("sqlite:////abs/mlflow.db", "sqlite:////abs/mlflow.db"),
        ("postgresql://u:p@127.0.0.1:5432/db", "postgresql://u:p@127.0.0.1:5432/db"),
        ("https://mlflow.example/", "https://mlflow.example/"),
    ],
)
def test_relative_uris_become_absolute(in_tmp: Path, given: str, expected: str) -> None:
    assert resolve_tracking_uri(given) == expected.format(tmp=in_tmp)


def test_the_scheme_chooses_the_store(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path.as_uri()), FileStore)
    assert isinstance(open_store(str(tmp_path)), FileStore)
    assert isinstance(open_store("http://127.0.0.1:1"), RestStore)
    with pytest.raises(TrackingError, match="unsupported tracking URI"):
        open_store("s3://bucket/runs")


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_database_uri_without_mlflow_says_how_to_get_it(tmp_path: Path) -> None:
    done = python(
        "import sys; sys.modules['mlflow'] = None  # as if mlflow were not installed\n"
        "from mlproj.errors import TrackingError\n"
        "from mlproj.tracking import open_store\n"
        f"try: open_store('sqlite:///{tmp_path}/x.db')\n"
        "except TrackingError as e: print(e.one_line())\n"
    )
    assert "pip install 'mlproj[mlflow]'" in done.stdout, done.stderr
    assert "MLFLOW_TRACKING_URI" in done.stdout


def test_the_file_store_and_runs_commands_import_neither_requests_nor_mlflow() -> None:
    done = python(
        "import sys\n"
        "import mlproj.tracking, mlproj.tracking.stores.file, mlproj.commands.runs.listing\n"
        "import mlproj.commands.runs.show, mlproj.commands.runs.compare\n"
        "import mlproj.commands.runs.follow\n"
        "import mlproj.commands.runs\n"
        "print(sorted(m for m in ('requests', 'mlflow', 'yaml') if m in sys.modules))\n"
    )
    assert done.stdout.strip() == "[]", done.stderr
