"""Fault tools for the run tests: a small tmpfs (a disk that fills up), an MLflow server that
can be stopped and started again on the same port, and process checks."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.tracking.conftest import _clean_env, _stop, _wait_until_up


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` (root only: CI runs as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path, leave: int = 0) -> None:
    """Fill `disk` up, leaving about `leave` bytes free."""
    with open(disk / "filler", "wb") as handle, contextlib.suppress(OSError):
        while True:
            stat = os.statvfs(disk)
            free = stat.f_bavail * stat.f_frsize - leave
            if free <= 0:
                break
            handle.write(b"\0" * min(free, 1 << 20))
            handle.flush()


class RestartableServer:
    """A real `mlflow server` (sqlite backend, proxied artifacts) that can be stopped and
    started again at the same URL, as a team's server goes down and comes back."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{self.workdir / 'mlflow.db'}",
            "--artifacts-destination", str(self.workdir / "artifacts"),
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        log_path = self.workdir / "server.log"
        with open(log_path, "ab") as log:
            self._proc = subprocess.Popen(
                argv, cwd=self.workdir, env=_clean_env(), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _wait_until_up(self._proc, self.url, log_path)

    def stop(self) -> None:
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None

    def client(self) -> object:
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.url)
