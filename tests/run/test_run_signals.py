"""Ctrl-C / SIGTERM / SIGHUP: the whole process group stops, the run ends KILLED, exit 128+N."""

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
    assert proc.returncode == 128 + sig, stderr
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
    assert proc.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - started < 30
    assert only_run(store).info.status == "KILLED"
    deadline = time.monotonic() + 5
    while (_alive(child) or _alive(grandchild)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child) and not _alive(grandchild)


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
    deadline = time.monotonic() + 120
    while not (building.exists() and building.read_text().strip()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the build never started"
        time.sleep(0.05)
    builder_pid = int(building.read_text())
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert only_run(store).info.status == "KILLED"
    deadline = time.monotonic() + 10
    while _alive(builder_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(builder_pid), "the package build outlived the run"

    (proj / "mlpt-slow-1.0" / "pkg.json").write_text(
        (proj / "mlpt-slow-1.0" / "pkg.json").read_text().replace('"sleep": 30.0', '"sleep": 0')
    )
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "1.0" in again.stdout
