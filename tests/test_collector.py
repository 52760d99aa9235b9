"""The collector is paused while a command starts and collects again once it runs (a long run
or a sweep must not pile up garbage); importing mlproj as a library pauses nothing."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from mlproj._util import collector
from tests.helpers import write_project

# The state of the collector when the command has ended, as an exit handler sees it.
PROBE = """
import atexit, gc, json, runpy, sys
def report():
    sys.stderr.write("\\nGC " + json.dumps([gc.isenabled(), gc.get_freeze_count()]) + "\\n")
atexit.register(report)
sys.argv = ["mlproj", *sys.argv[1:]]
runpy.run_module("mlproj", run_name="__main__")
"""


def collector_after(*args: str, cwd: Path) -> tuple[bool, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    enabled, frozen = json.loads(done.stderr.rsplit("\nGC ", 1)[1])
    return enabled, frozen


def test_a_run_collects_again_and_skips_its_start_up_objects(tmp_path: Path) -> None:
    mlproject = "name: p\nentry_points:\n  main:\n    command: 'true'\n"
    project = write_project(tmp_path / "p", mlproject)
    args = ("run", str(project), "--env-manager", "local", "--tracking-uri", str(tmp_path / "m"))
    enabled, frozen = collector_after(*args, cwd=tmp_path)
    assert enabled
    assert frozen > 10_000  # click, PyYAML and mlproj's modules: out of every later pass


def test_importing_the_cli_as_a_library_pauses_nothing() -> None:
    code = "import gc, mlproj.cli; print(gc.isenabled(), gc.get_freeze_count())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "0"]


def test_resume_only_undoes_its_own_pause() -> None:
    gc.disable()  # as a program embedding mlproj may have done
    try:
        collector.pause()
        collector.resume()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
