"""Issue 10 item 8: --grace must be a finite number >= 0; a second signal kills at once."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers import alive
from tests.run.conftest import only_run
from tests.run.test_run_signals import _start


@pytest.mark.parametrize("grace", ["nan", "inf", "-inf", "-1", "NaN"])
def test_bad_grace_is_refused_before_any_run(tmp_path: Path, store: Path, grace: str) -> None:
    (tmp_path / "MLproject").write_text("name: p\nentry_points:\n  main:\n    command: 'true'\n")
    done = run_cli(
        [
            "run",
            str(tmp_path),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "--grace",
            grace,
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    assert "--grace" in done.stderr and "Traceback" not in done.stderr
    assert not store.exists() or not list(store.glob("*/*/meta.yaml"))


def test_second_ctrl_c_kills_at_once(tmp_path: Path, store: Path) -> None:
    proc, pids = _start(tmp_path, store, "-P", "mode=stubborn", "--grace", "300")
    child, grandchild = (int(p) for p in pids.read_text().split())
    time.sleep(0.3)  # let it install its handlers
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # the stubborn child is still within its grace period
    proc.send_signal(signal.SIGINT)
    # "at once": well within the 300 s grace (and the child's 300 s sleep) it would otherwise get
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT, stderr
    assert only_run(store).info.status == "KILLED"
    deadline = time.monotonic() + 5
    while (alive(child) or alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child) and not alive(grandchild)


def test_sigterm_exits_143(tmp_path: Path, store: Path) -> None:
    proc, _ = _start(tmp_path, store)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
