"""Fixtures for the tracking tests: real stores, a real `mlflow server` on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mlproj.tracking.stores.file import FileStore
from tests.helpers import free_port, wait_until

SERVER_START_TIMEOUT = 180.0  # first start creates the schema; slow on a busy machine


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}


@contextlib.contextmanager
def mlflow_server(backend_uri: str, workdir: Path) -> Iterator[str]:
    """`mlflow server` with proxied artifacts, on a free port; its URL until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = workdir / "server.log"
    argv = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_uri,
        "--artifacts-destination", str(workdir / "artifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            argv, cwd=workdir, env=_clean_env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: uvicorn workers go down with it
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, url, log_path)
        yield url
    finally:
        _stop(proc)


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    def healthy() -> bool:
        if proc.poll() is not None:  # its output went to a log file: show the end of it
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"mlflow server exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(requests.RequestException):
            return requests.get(f"{url}/health", timeout=2).ok
        return False

    wait_until(healthy, SERVER_START_TIMEOUT, 0.25, what=f"the mlflow server at {url} is up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real MLflow tracking server with a sqlite backend, shared by the session."""
    workdir = tmp_path_factory.mktemp("mlflow-server")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


@pytest.fixture
def file_store(tmp_path: Path) -> FileStore:
    return FileStore((tmp_path / "mlruns").as_uri())


@pytest.fixture
def allow_file_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow >= 3.13 reads the file store only with this opt-in."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
