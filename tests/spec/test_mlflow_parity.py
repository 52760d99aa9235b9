"""The real MLflow (tests only) reads the corpus the same way mlproj does.

Known, intended differences: mlproj also detects conda.yml, and a project that declares no
environment is "local" for mlproj where MLflow builds an empty virtualenv ("python", no file).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from mlproj.errors import MlprojError
from mlproj.spec import get_entry_point, load_project, resolve_command, validate_path
from tests.spec.corpus import CASES, PROJECTS, Case


@pytest.fixture(scope="module")
def mlflow_spec() -> Any:
    """MLflow's own MLproject reader, imported by the tests that compare with it (importing
    mlflow takes seconds: collecting this module stays cheap)."""
    return pytest.importorskip("mlflow.projects._project_spec")


def _mlflow_env(mlflow_spec: Any, directory: Path) -> tuple[str, str | None]:
    project = mlflow_spec.load_project(str(directory))
    kind = project.env_type.removesuffix("_env")  # MLflow names the kinds after the keys
    return kind, project.env_config_path


def _expected_env(case: Case) -> tuple[str, str | None]:
    if case.env == "local" or case.env_file == "conda.yml":
        return "python", None
    file = str(PROJECTS / case.name / case.env_file) if case.env_file else None
    return case.env, file


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_environment(case: Case, mlflow_spec: Any) -> None:
    assert _mlflow_env(mlflow_spec, PROJECTS / case.name) == _expected_env(case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_same_commands(
    case: Case, mlflow_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = PROJECTS / case.name
    monkeypatch.chdir(directory)
    theirs = mlflow_spec.load_project(str(directory))
    ours = load_project(directory)
    assert sorted(theirs._entry_points) == sorted(ours.entry_points)
    for entry_point, params, _ in case.runs:
        expected = theirs.get_entry_point(entry_point).compute_command(params, str(tmp_path))
        assert resolve_command(ours, entry_point, params, Path.cwd()).command == expected


def test_same_default_values_and_types(mlflow_spec: Any) -> None:
    for case in CASES:
        theirs = mlflow_spec.load_project(str(PROJECTS / case.name))
        ours = load_project(PROJECTS / case.name)
        for name, ep in theirs._entry_points.items():
            mine = ours.entry_points[name]
            assert mine.command == ep.command
            for p in mine.parameters:
                assert (p.type, p.default) == (
                    ep.parameters[p.name].type,
                    ep.parameters[p.name].default,
                )


@pytest.mark.parametrize("name", ["x.py", "sub/x.py", "run me.sh"])
def test_script_entry_points_match(
    name: str, mlflow_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELL", "/bin/bash")
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text("")
    theirs = mlflow_spec.load_project(str(tmp_path)).get_entry_point(name)
    ours = get_entry_point(load_project(tmp_path), name)
    assert ours.command == theirs.command
    assert ours.implicit


def test_unknown_entry_point_message_names_the_declared_ones() -> None:
    ours = load_project(PROJECTS / "multistep")
    with pytest.raises(MlprojError) as info:
        get_entry_point(ours, "trian")
    assert "Could not find trian among entry points ['load_raw_data', 'etl_data'" in str(info.value)
    assert "'.py', '.sh'" in str(info.value)


def test_quoting_matches_shlex() -> None:
    ours = load_project(PROJECTS / "sklearn_elasticnet")
    value = 'a\'b "c" $(rm -rf /) `x` ; |'
    command = resolve_command(ours, "main", {"alpha": "1", "evil key": value}, Path(os.sep))
    assert command.command.endswith(f"--{shlex.quote('evil key')} {shlex.quote(value)}")
    assert shlex.split(command.command)[-2:] == ["--evil key", value]


YAML11 = """
entry_points:
  main:
    parameters:
      a: {type: int, default: 010}
      b: {type: string, default: 1:30}
      c: {type: string, default: on}
      d: {type: bool, default: yes}
      e: {type: float, default: 1e-3}
      f: {type: float, default: .01}
      g: {type: int, default: 0x1F}
      h: {type: string, default: 2024-01-31}
      i: {type: string, default: ~}
      j: {type: string, default: 'None'}
    command: echo {a} {b} {c} {d} {e} {f} {g} {h} {i} {j}
"""


def test_yaml_1_1_defaults_render_as_in_mlflow(
    mlflow_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "MLproject").write_text(YAML11)
    monkeypatch.chdir(tmp_path)
    theirs = mlflow_spec.load_project(str(tmp_path)).get_entry_point("main")
    params = {"i": "given"}
    expected = theirs.compute_command(params, str(tmp_path))
    ours = resolve_command(load_project(tmp_path), "main", params, tmp_path).command
    assert ours == expected == "echo 8 90 True True 1e-3 0.01 31 2024-01-31 given None"
    flagged = [p.line for p in validate_path(tmp_path)]
    assert flagged == [5, 6, 7, 11]  # 010, 1:30, on, 0x1F; not yes for a bool, not quoted None
