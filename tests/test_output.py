"""mlproj's own output: -q hides notes, -v shows debug lines, colour only on a terminal and never
with NO_COLOR, build progress as one line per phase off a terminal, and crash logs."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlproj import output
from mlproj.output import Progress
from tests.conftest import run_cli


@pytest.fixture(autouse=True)
def normal_verbosity() -> Iterator[None]:
    output.configure(output.NORMAL)
    yield
    output.configure(output.NORMAL)


def _local_project(root: Path) -> Path:
    root.mkdir()
    (root / "MLproject").write_text(
        "name: t\nentry_points:\n  main:\n    command: 'echo from-the-entry-point'\n"
    )
    return root


def test_quiet_hides_mlprojs_notes_but_not_the_runs_output(tmp_path: Path) -> None:
    project = _local_project(tmp_path / "p")
    loud = run_cli(["run", str(project)], cwd=tmp_path)
    quiet = run_cli(["-q", "run", str(project)], cwd=tmp_path)
    assert loud.returncode == quiet.returncode == 0, (loud.stderr, quiet.stderr)
    assert "mlproj: running 'echo from-the-entry-point'" in loud.stderr
    assert "mlproj: run " in loud.stderr
    assert "from-the-entry-point" in quiet.stdout
    assert "mlproj:" not in quiet.stderr


def test_quiet_keeps_errors(tmp_path: Path) -> None:
    done = run_cli(["-q", "run", str(tmp_path / "missing")], cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("mlproj: error: ")


def test_verbose_shows_debug_lines(tmp_path: Path) -> None:
    project = _local_project(tmp_path / "p")
    plain = run_cli(["run", str(project)], cwd=tmp_path)
    verbose = run_cli(["-v", "run", str(project)], cwd=tmp_path)
    assert plain.returncode == verbose.returncode == 0, (plain.stderr, verbose.stderr)
    assert "debug:" not in plain.stderr
    debug = [line for line in verbose.stderr.splitlines() if line.startswith("mlproj: debug: ")]
    assert any("entry point main, env local" in line for line in debug), verbose.stderr
    assert any("tracking store file://" in line for line in debug), verbose.stderr


def test_verbose_and_quiet_exclude_each_other() -> None:
    done = run_cli(["-v", "-q", "env", "list"])
    assert done.returncode == 2
    assert "exclude each other" in done.stderr


def _stderr_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """Run mlproj with a pseudo-terminal as its stderr; what it wrote there."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlproj", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=follower,
            env=env,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal is closed once the child has exited
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


def test_errors_are_coloured_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    args = ["run", str(tmp_path / "missing")]
    coloured = _stderr_on_a_terminal(args, env)
    assert "mlproj: \x1b[31merror:\x1b[0m " in coloured
    plain = _stderr_on_a_terminal(args, {**env, "NO_COLOR": "1"})
    assert "mlproj: error: " in plain and "\x1b[" not in plain
    piped = run_cli(args, env={"NO_COLOR": ""})
    assert "\x1b[" not in piped.stderr  # not a terminal: no colour either


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_color_turns_colour_off_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert output.paint("warning:", "warning", _Terminal()) == "\x1b[33mwarning:\x1b[0m"
    assert output.paint("warning:", "warning", io.StringIO()) == "warning:"
    monkeypatch.setenv("NO_COLOR", "1")
    assert output.paint("warning:", "warning", _Terminal()) == "warning:"


def test_progress_off_a_terminal_is_one_line_per_phase() -> None:
    stream = io.StringIO()
    with Progress("conda", stream=stream, interactive=False) as progress:
        progress.phase("solving conda.yml")
        progress.item("numpy 1.26.4")
        progress.item("Downloading torch (740.1MiB)")
        progress.phase("installing 12 packages")
    assert stream.getvalue() == (
        "mlproj: conda: solving conda.yml\nmlproj: conda: installing 12 packages\n"
    )


def test_progress_on_a_terminal_names_the_item_at_hand() -> None:
    term = _Terminal()
    with Progress("virtualenv", stream=term) as progress:
        progress.phase("installing 3 requirements")
        progress.item("Downloading torch (740.1MiB)")
        time.sleep(0.35)
    shown = term.getvalue()
    assert re.search(
        r"mlproj: virtualenv: installing 3 requirements: Downloading torch \(740\.1MiB\) \(\d+s\)",
        shown,
    ), shown
    assert shown.endswith("\r\x1b[K")  # nothing half-drawn is left behind


def test_quiet_progress_shows_nothing_and_verbose_shows_items(
    capsys: pytest.CaptureFixture[str],
) -> None:
    output.configure(output.QUIET)
    stream = io.StringIO()
    with Progress("conda", stream=stream, interactive=False) as progress:
        progress.phase("solving conda.yml")
    assert stream.getvalue() == ""

    output.configure(output.VERBOSE)
    with Progress("conda", stream=stream, interactive=False) as progress:
        progress.phase("installing 2 packages")
        progress.item("installing numpy")
    assert stream.getvalue() == "mlproj: conda: installing 2 packages\n"
    assert capsys.readouterr().err == "mlproj: debug: conda: installing numpy\n"


_CRASH = textwrap.dedent(
    """
    import click, sys
    from mlproj import cli

    @click.command()
    def command() -> None:
        raise RuntimeError("something unexpected")

    cli.COMMANDS["boom"] = ("__main__", "a verb that crashes")  # loaded like any verb
    for _ in range(2):  # twice within a second: two crash logs
        try:
            cli.main(["boom"])
        except SystemExit as exc:
            print(exc.code)
    """
)


def test_a_crash_writes_a_log_with_versions_and_a_file_name_that_never_collides(
    isolated_home: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CRASH], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stdout.split() == ["1", "1"], done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(
        line.startswith("mlproj: internal error: RuntimeError: something unexpected; details in ")
        for line in lines
    ), done.stderr
    logs = sorted((isolated_home / "crash").iterdir())
    assert len(logs) == 2
    assert all(re.fullmatch(r"crash-\d{8}-\d{6}-\d{6}-\d+\.log", p.name) for p in logs)
    assert str(logs[0]) in done.stderr and str(logs[1]) in done.stderr
    text = logs[0].read_text()
    from mlproj import __version__

    assert f"mlproj version: {__version__}" in text
    assert f"python version: {sys.version.split()[0]}" in text
    assert "platform: " in text and "command: mlproj boom" in text
    assert "RuntimeError: something unexpected" in text and "Traceback" in text
