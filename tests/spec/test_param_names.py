"""Mistyped -P names: a warning before anything runs, or a refusal with --strict-params."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.run.conftest import write_project

MLPROJECT = """
    entry_points:
      main:
        parameters:
          epochs: {type: int, default: 5}
          conv_size: {type: int, default: 3}
        command: "echo epochs={epochs} conv={conv_size}"
"""


def _run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], Path]:
    proj = write_project(tmp_path / "proj", MLPROJECT)
    store = tmp_path / "mlruns"
    return run_cli(
        ["run", str(proj), "--env-manager", "local", "--tracking-uri", str(store), *args], env=env
    ), store


@pytest.mark.parametrize(
    ("given", "meant", "passed"),
    [("epoch=2", "epochs", "--epoch 2"), ("convSize=5", "conv_size", "--convSize 5")],
)
def test_a_close_undeclared_name_is_warned_about_and_still_passed(
    tmp_path: Path, given: str, meant: str, passed: str
) -> None:
    result, _ = _run(tmp_path, "-P", given)
    name = given.split("=")[0]
    warning = (
        f"mlproj: warning: -P {name}: not a parameter of main; did you mean {meant}? "
        f"It will be passed as {passed}"
    )
    assert result.stderr.splitlines()[0] == warning  # before anything runs
    assert result.returncode == 0, result.stderr
    assert f"epochs=5 conv=3 {passed}" in result.stdout  # MLflow's behaviour is kept


def test_an_unrelated_undeclared_name_passes_silently(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, "-P", "momentum=0.9")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    assert "--momentum 0.9" in result.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--strict-params",), None), ((), {"MLPROJ_STRICT_PARAMS": "1"})],
)
def test_strict_params_refuses_undeclared_names_before_any_run(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    result, store = _run(tmp_path, "-P", "epoch=2", *args, env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "mlproj: error: -P epoch: not a parameter of main; did you mean epochs? "
        "(declared: epochs, conv_size; without --strict-params it would be passed as --epoch 2)"
    )
    assert not store.exists()


def test_strict_params_accepts_declared_names(tmp_path: Path) -> None:
    result, _ = _run(tmp_path, "-P", "epochs=2", "--strict-params")
    assert result.returncode == 0, result.stderr
    assert "epochs=2 conv=3" in result.stdout
