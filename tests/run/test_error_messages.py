"""Error messages as a new user meets them (issue 11.8): the cause first, the fix findable."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.conftest import run_cli
from tests.run.conftest import write_project


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def test_an_unreachable_conda_channel_leads_with_the_cause_and_the_fix_on_its_own_line(
    tmp_path: Path,
) -> None:
    channel = f"http://127.0.0.1:{_closed_port()}/conda-forge"
    proj = write_project(
        tmp_path / "p",
        'conda_env: conda.yaml\nentry_points:\n  main:\n    command: "true"\n',
        {"conda.yaml": f"name: x\nchannels: [{channel}]\ndependencies: [python=3.11]\n"},
    )
    result = run_cli(["run", str(proj), "--tracking-uri", str(tmp_path / "mlruns")])
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    error = next(i for i, line in enumerate(lines) if line.startswith("mlproj: error:"))
    assert lines[error] == (
        f"mlproj: error: cannot reach the conda channel {channel}: connection refused"
    )
    assert lines[error + 1].startswith("  fix: check `channels:`")
    assert "Caused by" not in result.stderr


def test_a_missing_conda_yaml_suggests_the_conda_yml_beside_it(tmp_path: Path) -> None:
    proj = write_project(
        tmp_path / "p",
        'conda_env: conda.yaml\nentry_points:\n  main:\n    command: "true"\n',
        {"conda.yml": "name: x\ndependencies: [python=3.11]\n"},
    )
    result = run_cli(["validate", str(proj)])
    assert result.returncode == 1
    assert "There is conda.yml beside it: did you mean that file?" in result.stdout
