"""Processes the tests start: run the CLI as a user would, check whether a pid still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether PID is running. A zombie (exited, not yet reaped by its parent) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # exited between the two checks
        return False
    # the state follows the command name, which is in parentheses and may contain spaces
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def unmeasured_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """`env` (default: ours) without coverage's subprocess measurement (CI's), for a child
    whose imported modules a test inspects: coverage imports modules of its own."""
    unmeasured = dict(os.environ if env is None else env)
    unmeasured.pop("COVERAGE_PROCESS_CONFIG", None)
    unmeasured.pop("COVERAGE_PROCESS_START", None)
    return unmeasured


def start_cli(args: Sequence[str], cwd: Path) -> subprocess.Popen[str]:
    """Start `python -m mlproj ARGS` in the background, its output in text pipes."""
    return subprocess.Popen(
        [sys.executable, "-m", "mlproj", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m mlproj ARGS` as a user would, capturing its output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "mlproj", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
