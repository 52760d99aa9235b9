"""Items 11, 12, 15: undecodable argv bytes, NUL bytes in an MLproject and blank experiment
names are refused with one line before any run exists."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli

MLPROJECT = """name: p
entry_points:
  main:
    parameters: {s: {type: string, default: x}}
    command: 'echo {s}'
"""


def _run_bytes(args: list[bytes], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """argv with raw bytes, as a shell passes `$'\\xff'`."""
    return subprocess.run(
        [sys.executable.encode(), b"-m", b"mlproj", *args],
        cwd=cwd,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        capture_output=True,
        timeout=120,
        check=False,
    )


def _no_run_created(store: Path) -> None:
    assert not store.exists() or not [p for p in store.glob("*/*") if p.is_dir()], list(
        store.rglob("*")
    )


@pytest.mark.parametrize(
    "extra",
    [
        [b"-P", b"s=\xff"],
        [b"-P", b"\xff=1"],
        [b"--run-name", b"r\xfe"],
        [b"--experiment-name", b"e\xff"],
    ],
    ids=["param value", "param name", "run name", "experiment name"],
)
def test_non_utf8_argv(tmp_path: Path, extra: list[bytes]) -> None:
    (tmp_path / "MLproject").write_text(MLPROJECT)
    store = tmp_path / "mlruns"
    args = [b"run", b".", b"--env-manager", b"local", b"--tracking-uri", bytes(store), *extra]
    done = _run_bytes(args, tmp_path)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode != 0
    assert "not valid UTF-8" in err and "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1, err
    _no_run_created(store)


NUL_PROJECTS = {
    "command": 'name: p\nentry_points:\n  main:\n    command: "echo a\\0b"\n',
    "default": 'name: p\nentry_points:\n  main:\n    parameters: {s: {default: "a\\0b"}}\n'
    "    command: 'echo {s}'\n",
}


@pytest.mark.parametrize("where", sorted(NUL_PROJECTS))
def test_nul_byte_in_mlproject(tmp_path: Path, where: str) -> None:
    (tmp_path / "MLproject").write_text(NUL_PROJECTS[where])
    checked = run_cli(["validate", "."], cwd=tmp_path)
    assert checked.returncode != 0
    assert "NUL" in checked.stdout + checked.stderr
    assert "MLproject:" in checked.stdout + checked.stderr
    store = tmp_path / "mlruns"
    done = run_cli(
        ["run", ".", "--env-manager", "local", "--tracking-uri", str(store)], cwd=tmp_path
    )
    assert done.returncode != 0
    assert "NUL" in done.stderr and "Traceback" not in done.stderr
    _no_run_created(store)


@pytest.mark.parametrize("name", ["", " ", "\t \n"])
def test_blank_experiment_name(tmp_path: Path, name: str) -> None:
    (tmp_path / "MLproject").write_text(MLPROJECT)
    store = tmp_path / "mlruns"
    done = run_cli(
        [
            "run",
            ".",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
            "--experiment-name",
            name,
        ],
        cwd=tmp_path,
    )
    assert done.returncode != 0, done.stderr
    assert "blank" in done.stderr
    assert not list(store.glob("*/meta.yaml")) or [
        p.parent.name for p in store.glob("*/meta.yaml")
    ] == ["0"]
