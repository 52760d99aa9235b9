"""Ctrl-C / SIGTERM / SIGHUP: the whole process group stops, the run ends KILLED, exit 128+N."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import alive, needs_uv, wait_until, write_project
from tests.run.conftest import only_run

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


def _start(tmp_path: Path, store: Path, *extra: str) -> tuple[subprocess.Popen[str], Path]:
    proj = write_project(tmp_path / "proj", MLPROJECT, {"sleeper.py": SLEEPER})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlproj",
            "run",
            str(proj),
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pids = proj / "pids.txt"
    wait_until(
        lambda: pids.exists() and pids.read_text().endswith("\n"),
        60,
        what="the entry point started",
        process=proc,
    )
    return proc, pids


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_the_group_and_marks_killed(tmp_path: Path, store: Path, sig: int) -> None:
    proc, pids = _start(tmp_path, store)
    child, grandchild = (int(p) for p in pids.read_text().split())
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, stderr
    # the child may print its own KeyboardInterrupt traceback; mlproj itself prints none
    assert "mlproj/" not in stderr and "internal error" not in stderr
    assert only_run(store).info.status == "KILLED"
    wait_until(
        lambda: not alive(child) and not alive(grandchild),
        5,
        what="the entry point and its own child stopped",
    )


def test_a_child_ignoring_signals_is_killed_after_the_grace_period(
    tmp_path: Path, store: Path
) -> None:
    proc, pids = _start(tmp_path, store, "-P", "mode=stubborn", "--grace", "1")
    child, grandchild = (int(p) for p in pids.read_text().split())
    time.sleep(0.2)  # let it install its handlers
    proc.send_signal(signal.SIGTERM)
    # it ignores SIGTERM and sleeps 300 s: ending within this wait is the kill after the grace
    proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM
    assert only_run(store).info.status == "KILLED"
    wait_until(
        lambda: not alive(child) and not alive(grandchild),
        5,
        what="the entry point and its own child stopped",
    )


@needs_uv
def test_sigterm_during_an_env_build_ends_killed_and_the_next_run_rebuilds(
    tmp_path: Path, store: Path
) -> None:
    from tests.envs.pkgs import make_source

    proj = tmp_path / "proj"
    building = tmp_path / "building"
    make_source(proj, "mlpt-slow", sleep=30.0, signal_file=building)
    write_project(
        proj,
        "python_env: python_env.yaml\nentry_points:\n  main:\n"
        "    command: \"python -c 'import mlpt_slow; print(mlpt_slow.VERSION)'\"\n",
        {"python_env.yaml": "dependencies: [./mlpt-slow-1.0]\n"},
    )
    # no package index: the only requirement is a local source tree
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
    }
    argv = [sys.executable, "-m", "mlproj", "run", str(proj), "--tracking-uri", str(store)]
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_until(
        lambda: building.exists() and building.read_text().strip(),
        120,
        what="the package build started",
        process=proc,
    )
    builder_pid = int(building.read_text())
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert only_run(store).info.status == "KILLED"
    wait_until(lambda: not alive(builder_pid), 10, what="the package build stopped with the run")

    (proj / "mlpt-slow-1.0" / "pkg.json").write_text(
        (proj / "mlpt-slow-1.0" / "pkg.json").read_text().replace('"sleep": 30.0', '"sleep": 0')
    )
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "1.0" in again.stdout
