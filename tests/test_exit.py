"""`mlproj` exits without the interpreter's teardown, but as sys.exit would otherwise: exit
handlers run, output is flushed through pipes, statuses are kept, live threads are waited for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.helpers import run_cli
from tests.spec.corpus import PROJECTS

PROBE = """
import atexit, sys, threading, time
from pathlib import Path
from mlproj.cli import exit_without_teardown
out = Path(sys.argv[1])

class Tracked:
    def __del__(self):
        (out / "teardown").write_text("freed")

KEEP = Tracked()
atexit.register(lambda: (out / "atexit").write_text("ran"))
if sys.argv[2] == "thread":
    def late():
        time.sleep(0.3)
        (out / "thread").write_text("done")
    threading.Thread(target=late).start()
sys.stdout.write("x" * 200_000)  # more than a pipe's buffer: only a flush gets it all out
exit_without_teardown(int(sys.argv[3]) if sys.argv[3].isdigit() else sys.argv[3])
"""


def probe(tmp_path: Path, thread: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path), thread, code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_handlers_run_output_is_flushed_and_teardown_is_skipped(tmp_path: Path) -> None:
    done = probe(tmp_path, "none", "3")
    assert done.returncode == 3
    assert len(done.stdout) == 200_000
    assert (tmp_path / "atexit").read_text() == "ran"
    assert not (tmp_path / "teardown").exists()  # objects were not freed one by one


def test_a_message_exits_1_and_is_printed(tmp_path: Path) -> None:
    done = probe(tmp_path, "none", "bad thing")
    assert done.returncode == 1
    assert done.stderr.strip() == "bad thing"


def test_a_live_thread_is_waited_for(tmp_path: Path) -> None:
    done = probe(tmp_path, "thread", "0")
    assert done.returncode == 0
    assert (tmp_path / "thread").read_text() == "done"
    assert (tmp_path / "atexit").read_text() == "ran"


def test_the_cli_keeps_its_statuses_and_output_through_a_pipe() -> None:
    described = run_cli(["describe", "--json", str(PROJECTS / "multistep")])
    assert described.returncode == 0
    assert json.loads(described.stdout)["name"]
    assert run_cli(["validate", "/nonexistent/project"]).returncode == 1
    assert run_cli(["run", "--no-such-option"]).returncode == 2
