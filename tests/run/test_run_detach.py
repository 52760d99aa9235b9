"""`mlproj run --detach` returns at once with the run id; `mlproj runs wait` follows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import run_cli, write_project
from tests.run.conftest import only_run


def test_detach_then_wait(tmp_path: Path) -> None:
    go = tmp_path / "go"
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python slow.py"\n',
        {
            "slow.py": f"""
            import os, time
            deadline = time.monotonic() + 60
            while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
                time.sleep(0.05)
            print("done sleeping")
            """
        },
    )
    store = tmp_path / "mlruns"
    result = run_cli(
        ["run", str(proj), "--detach", "--env-manager", "local", "--tracking-uri", str(store)]
    )
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip()
    assert len(run_id) == 32
    # detached: back before the run could end (it waits for `go`, which only comes now)
    assert only_run(store).info.status == "RUNNING"
    go.touch()
    waited = run_cli(["runs", "wait", run_id, "--tracking-uri", str(store), "--timeout", "120"])
    assert waited.returncode == 0, waited.stderr
    run = only_run(store)
    assert run.info.status == "FINISHED"
    logs = run_cli(["runs", "logs", run_id, "--tracking-uri", str(store)])
    assert "done sleeping" in logs.stdout


def test_follow_the_logs_of_a_detached_run(tmp_path: Path) -> None:
    go = tmp_path / "go"
    proj = write_project(
        tmp_path / "proj",
        'entry_points:\n  main:\n    command: "python step.py"\n',
        {
            "step.py": f"""
            import os, sys, time
            print("first")
            deadline = time.monotonic() + 60
            while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
                time.sleep(0.05)
            print("second", file=sys.stderr)
            """
        },
    )
    store = tmp_path / "mlruns"
    started = run_cli(
        ["run", str(proj), "--detach", "--env-manager", "local", "--tracking-uri", str(store)]
    )
    assert started.returncode == 0, started.stderr
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlproj",
            "runs",
            "logs",
            "-f",
            started.stdout.strip(),
            "--tracking-uri",
            str(store),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    assert follower.stdout.readline() == "first\n"  # live, while the run still waits
    assert follower.poll() is None
    go.touch()
    _, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert "second" in err
