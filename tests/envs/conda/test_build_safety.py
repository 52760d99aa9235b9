"""The conda prefix is built in place under the cache lock: a half-built prefix is never used,
two processes build it once, and the build shows steps and keeps a log."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from mlproj.envs import cache
from mlproj.envs.buildlog import BuildLog
from mlproj.envs.conda.manager import MANAGER
from mlproj.output import Progress
from tests.envs.conda.conftest import launch, options, write_conda_project


def test_a_prefix_without_its_marker_is_rebuilt(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    prefix = cache.env_path(MANAGER.prepare(project, options()).facts.tags()["mlproj.env.key"])
    (prefix / cache.MARKER).unlink()  # as if the build had been killed before publishing
    (prefix / "half-written").write_text("junk")
    assert MANAGER.plan(project, options())["cached"] is False

    prepared = MANAGER.prepare(project, options())
    assert not (prefix / "half-written").exists()
    assert (prefix / cache.MARKER).is_file()
    assert launch(prepared, "mlp-app", project.directory)[0] == 0


_PREPARE = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from mlproj.envs.base import EnvOptions
    from mlproj.envs.conda.manager import MANAGER
    from mlproj.spec.model import EnvDecl, Project
    root = Path(sys.argv[1])
    project = Project(root, "p", EnvDecl("conda", root / "conda.yml"))
    prepared = MANAGER.prepare(project, EnvOptions(manager="conda"))
    print(json.dumps(dict(prepared.facts.tags())))
""")


def test_two_processes_build_once_and_share(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PREPARE, str(project.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], results
    keys = {json.loads(out)["mlproj.env.key"] for out, _ in results}
    assert len(keys) == 1
    steps = [err.count("solving") for _, err in results]
    assert sorted(steps) == [0, 1]  # one built it, the other reused it
    assert [p.name for p in cache.envs_root().iterdir() if p.name.startswith(".")] == []


def test_steps_are_plain_lines_off_a_terminal_and_a_spinner_on_one(tmp_path: Path) -> None:
    plain = io.StringIO()
    progress = Progress("conda", stream=plain, interactive=False)
    with BuildLog(tmp_path / "a.log", "conda", progress=progress) as reporter:
        reporter.step("solving conda.yml")
        reporter.detail("solver detail")
    assert plain.getvalue() == "mlproj: conda: solving conda.yml\n"
    log = (tmp_path / "a.log").read_text()
    assert "== solving conda.yml" in log and "solver detail" in log

    tty = io.StringIO()
    progress = Progress("conda", stream=tty, interactive=True)
    with BuildLog(tmp_path / "b.log", "conda", progress=progress) as reporter:
        reporter.step("installing 3 packages")
        import time

        time.sleep(0.25)
    shown = tty.getvalue()
    assert "\r" in shown and "mlproj: conda: installing 3 packages" in shown
    assert shown.endswith("\r\x1b[K")  # the spinner line is cleared at the end
