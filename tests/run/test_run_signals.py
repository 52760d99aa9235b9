"""Ctrl-C / SIGTERM / SIGHUP: the whole process group stops, the run ends KILLED, exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.run.conftest import only_run, write_project

# The entry point starts a grandchild (a background sleep) and records both pids.
SLEEPER = """
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open("pids.txt", "w") as f:
        f.write(f"{os.getpid()} {child.pid}\\n")
    if sys.argv[1] == "stubborn":
        import signal
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
    time.sleep(300)
"""
MLPROJECT = """
    entry_points:
      main:
        parameters: {mode: {type: string, default: polite}}
        command: "python sleeper.py {mode}"
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is not alive for our purpose
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _start(tmp_path: Path, store: Path, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    proj = write_project(tmp_path / "proj", MLPROJECT, {"sleeper.py": SLEEPER})
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlproj", "run", str(proj), "--env-manager", "local",
         "--tracking-uri", str(store), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    pids = proj / "pids.txt"
    deadline = time.monotonic() + 60
    while not (pids.exists() and pids.read_text().endswith("\n")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the entry point never started"
        time.sleep(0.05)
    return proc, pids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_the_group_and_marks_killed(tmp_path: Path, store: Path, sig: int) -> None:
    proc, pids = _start(tmp_path, store)
    child, grandchild = (int(p) for p in pids.read_text().split())
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    # the child may print its own KeyboardInterrupt traceback; mlproj itself prints none
    assert "mlproj/" not in stderr and "internal error" not in stderr
    assert only_run(store).info.status == "KILLED"
    deadline = time.monotonic() + 5
    while (_alive(child) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and not _alive(grandchild)


def test_a_child_ignoring_signals_is_killed_after_the_grace_period(
    tmp_path: Path, store: Path
) -> None:
    proc, pids = _start(tmp_path, store, "-P", "mode=stubborn", "--grace", "1")
    child, grandchild = (int(p) for p in pids.read_text().split())
    time.sleep(0.2)  # let it install its handlers
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert time.monotonic() - started < 30
    assert only_run(store).info.status == "KILLED"
    deadline = time.monotonic() + 5
    while (_alive(child) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and not _alive(grandchild)
