"""Item 10: an MLproject or env file that is a FIFO or a symlink to /proc/self/fd/0 is refused
at once (run, validate, describe), never read until someone writes to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MLPROJECT = "name: p\npython_env: python_env.yaml\nentry_points:\n  main:\n    command: 'true'\n"
COMMANDS = [
    ["validate"],
    ["describe"],
    ["run", "--dry-run", "--env-manager", "local"],
    ["run", "--env-manager", "local"],
]


def _mlproj(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """stdin is a pipe nobody writes to: reading /proc/self/fd/0 would block for ever."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlproj", *args],
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"mlproj {' '.join(args)} blocked") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _make(project: Path, name: str, kind: str) -> None:
    project.mkdir()
    (project / "MLproject").write_text(MLPROJECT)
    (project / "python_env.yaml").write_text("dependencies: []\n")
    target = project / name
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.symlink_to("/proc/self/fd/0")


@pytest.mark.parametrize("kind", ["fifo", "stdin-symlink"])
@pytest.mark.parametrize("name", ["MLproject", "python_env.yaml"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_refused_without_blocking(tmp_path: Path, kind: str, name: str, command: list[str]) -> None:
    project = tmp_path / "p"
    _make(project, name, kind)
    args = [*command, str(project)]
    if command[0] == "run":
        args += ["--tracking-uri", str(tmp_path / "mlruns")]
    done = _mlproj(args, tmp_path)
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert name in done.stdout + done.stderr
    assert not list((tmp_path / "mlruns").glob("*/*/meta.yaml"))  # no run was created
