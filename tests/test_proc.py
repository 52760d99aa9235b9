"""Process helpers: tools started for an env build die with mlproj, even on SIGKILL."""

from __future__ import annotations

import json
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


SUBREAPER = """
import json, subprocess, sys, time
from mlproj import proc
assert proc.become_subreaper()
# the shell exits at once: its background sleep is orphaned, and re-parented to us
subprocess.run(["sh", "-c", "sleep 300 >/dev/null 2>&1 & echo $!"], check=True,
               stdout=open(sys.argv[1], "w"))
orphan = open(sys.argv[1]).read().strip()
for _ in range(1000):  # until the forked shell has become `sleep` (a race under load)
    if open(f"/proc/{orphan}/cmdline", "rb").read().startswith(b"sleep"):
        break
    time.sleep(0.01)
found = {"children": proc.adopted_orphans()}
proc._children = lambda: None  # as on a kernel without /proc/self/task/*/children
found["scan"] = proc.adopted_orphans()
proc.stop_orphans(found["scan"], 5)
found["after"] = proc.adopted_orphans()
print(json.dumps(found))
"""


def test_an_orphan_is_found_from_our_children_and_by_the_scan_alike(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    out = subprocess.run(
        [sys.executable, "-c", SUBREAPER, str(pid_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = json.loads(out.stdout)
    orphan = int(pid_file.read_text())
    assert [pid for pid, _ in found["children"]] == [orphan]
    assert found["children"] == found["scan"]
    assert "sleep 300" in found["children"][0][1]
    assert found["after"] == []
    assert not alive(orphan)
