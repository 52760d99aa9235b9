"""Process helpers: tools started for an env build die with mlproj, even on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BUILDER = """
import sys
from mlproj import proc
proc.run_quiet(["bash", "-c", f"echo $$ > {sys.argv[1]}; exec sleep 300"])
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def test_a_build_tool_dies_when_mlproj_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "tool.pid"
    builder = subprocess.Popen([sys.executable, "-c", BUILDER, str(pid_file)])
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline, "the tool never started"
        time.sleep(0.05)
    tool = int(pid_file.read_text())
    builder.send_signal(signal.SIGKILL)
    builder.wait()
    deadline = time.monotonic() + 10
    while _alive(tool) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(tool)
