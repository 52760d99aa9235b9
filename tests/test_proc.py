"""Process helpers: tools started for an env build die with mlproj, even on SIGKILL."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import alive, wait_until

BUILDER = """
import sys
from mlproj import proc
proc.run_quiet(["bash", "-c", f"echo $$ > {sys.argv[1]}; exec sleep 300"])
"""


def test_a_build_tool_dies_when_mlproj_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "tool.pid"
    builder = subprocess.Popen([sys.executable, "-c", BUILDER, str(pid_file)])
    wait_until(
        lambda: pid_file.exists() and pid_file.read_text().strip(),
        30,
        what="the tool started",
        process=builder,
    )
    tool = int(pid_file.read_text())
    builder.send_signal(signal.SIGKILL)
    builder.wait()
    wait_until(lambda: not alive(tool), 10, what=f"the tool (pid {tool}) died with its builder")
