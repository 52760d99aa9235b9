"""resolve_command / get_entry_point: checked values, MLflow's rendering, clear errors."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from mlproj.errors import ParamError, SpecError
from mlproj.spec import get_entry_point, load_project, resolve_command
from mlproj.spec.model import Project
from tests.helpers import write_project

MLPROJECT = """
name: p
entry_points:
  main:
    parameters:
      alpha: float
      epochs: {type: integer, default: 10}
      verbose: {type: boolean, default: true}
      data: {type: path, default: data/train.csv}
      model: {type: uri, default: "models:/m/1"}
      note: {type: str, default: ""}
      mode: {type: weird, default: x}
    command: "python train.py {alpha} {epochs} {verbose} {data} {model} {note} {mode}"
  braces:
    parameters: {n: int}
    command: "echo {{literal}} {n:>4} {n!r}"
  needs_two:
    parameters: {a: string, b: string, c: {type: string, default: z}}
    command: "echo {a} {b} {c}"
  bad_placeholder:
    parameters: {a: string}
    command: "echo {a} {b}"
  no_command:
    parameters: {a: string}
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    write_project(
        tmp_path / "proj",
        files={"MLproject": MLPROJECT, "data/train.csv": "x\n", "train.py": "", "run.sh": ""},
    )
    return load_project(tmp_path / "proj")


def test_defaults_keep_their_yaml_types_and_render_as_mlflow_does(project: Project) -> None:
    resolved = resolve_command(project, "main", {"alpha": "0.1"}, Path("/"))
    data = project.directory / "data" / "train.csv"
    assert resolved.command == f"python train.py 0.1 10 True {data} models:/m/1 '' x"
    assert resolved.params == {
        "alpha": "0.1",
        "epochs": "10",
        "verbose": "True",
        "data": "data/train.csv",
        "model": "models:/m/1",
        "note": "",
        "mode": "x",
    }
    defaults = {p.name: p.default for p in project.entry_points["main"].parameters}
    assert defaults["epochs"] == 10 and defaults["verbose"] is True and defaults["note"] == ""


def test_extras_are_appended_in_the_order_given(project: Project) -> None:
    params = {"zeta": "1", "alpha": "2", "a b": "c d", "beta": "$(id)"}
    resolved = resolve_command(project, "main", params, Path("/"))
    assert resolved.command.endswith(" --zeta 1 --'a b' 'c d' --beta '$(id)'")
    assert list(resolved.params) == [
        "alpha",
        "epochs",
        "verbose",
        "data",
        "model",
        "note",
        "mode",
        "zeta",
        "a b",
        "beta",
    ]
    assert resolved.params["beta"] == "$(id)"


def test_values_are_shell_quoted_in_the_command_but_logged_as_typed(project: Project) -> None:
    resolved = resolve_command(project, "needs_two", {"a": "it's", "b": "x y"}, Path("/"))
    assert resolved.command == "echo 'it'\"'\"'s' 'x y' z"
    assert shlex.split(resolved.command) == ["echo", "it's", "x y", "z"]
    assert resolved.params == {"a": "it's", "b": "x y", "c": "z"}


def test_str_format_semantics(project: Project) -> None:
    resolved = resolve_command(project, "braces", {"n": "7"}, Path("/"))
    assert resolved.command == "echo {literal}    7 '7'"  # !r applies to the quoted text


def test_every_missing_parameter_is_named(project: Project) -> None:
    with pytest.raises(ParamError) as info:
        resolve_command(project, "needs_two", {}, Path("/"))
    assert info.value.message == "No value given for missing parameters: 'a', 'b'"


@pytest.mark.parametrize(
    "name,value,words",
    [
        ("alpha", "abc", "invalid value 'abc' for float parameter 'alpha': not a number"),
        ("epochs", "1.5", "invalid value '1.5' for integer parameter 'epochs': not a whole number"),
        (
            "verbose",
            "maybe",
            "invalid value 'maybe' for boolean parameter 'verbose': not a boolean",
        ),
        ("model", "relative/dir", "neither a URI (scheme://...) nor an absolute path"),
    ],
)
def test_types_are_checked_before_anything_runs(
    project: Project, name: str, value: str, words: str
) -> None:
    params = {"alpha": "0.5", name: value}
    with pytest.raises(ParamError) as info:
        resolve_command(project, "main", params, Path("/"))
    assert words in info.value.message


@pytest.mark.parametrize("value", ["1", "-2.5e-3", "1e3", "nan", ".5"])
def test_floats_accepted(project: Project, value: str) -> None:
    resolve_command(project, "main", {"alpha": value}, Path("/"))


@pytest.mark.parametrize("value", ["true", "False", "1", "0", "YES", "no"])
def test_bools_accepted_as_typed(project: Project, value: str) -> None:
    resolved = resolve_command(project, "main", {"alpha": "1", "verbose": value}, Path("/"))
    assert resolved.params["verbose"] == value


def test_all_problems_reported_together(project: Project) -> None:
    with pytest.raises(ParamError) as info:
        resolve_command(project, "main", {"alpha": "x", "epochs": "y"}, Path("/"))
    assert "'alpha'" in info.value.message and "'epochs'" in info.value.message


def test_user_paths_resolve_against_the_callers_cwd(project: Project, tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text("1\n")
    resolved = resolve_command(project, "main", {"alpha": "1", "data": "mine.csv"}, tmp_path)
    assert f" {tmp_path / 'mine.csv'} " in resolved.command
    assert resolved.params["data"] == "mine.csv"
    with pytest.raises(
        ParamError,
        match=r"Got value data/train\.csv for parameter data, but no "
        r"such file or directory was found",
    ):
        resolve_command(project, "main", {"alpha": "1", "data": "data/train.csv"}, tmp_path)


def test_file_uri_paths(project: Project, tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("1\n")
    resolved = resolve_command(
        project, "main", {"alpha": "1", "data": f"file://{tmp_path}/f.csv"}, Path("/")
    )
    assert f" {tmp_path / 'f.csv'} " in resolved.command


def test_remote_paths_are_refused_clearly(project: Project) -> None:
    with pytest.raises(ParamError, match="cannot fetch 's3://b/k' for path parameter 'data'"):
        resolve_command(project, "main", {"alpha": "1", "data": "s3://b/k"}, Path("/"))


def test_uri_accepts_absolute_paths(project: Project) -> None:
    resolved = resolve_command(project, "main", {"alpha": "1", "model": "/abs/x"}, Path("/"))
    assert " /abs/x " in resolved.command


def test_a_placeholder_that_names_no_parameter(project: Project) -> None:
    with pytest.raises(SpecError) as info:
        resolve_command(project, "bad_placeholder", {"a": "1", "b": "2"}, Path("/"))
    assert "entry point 'bad_placeholder'" in info.value.message
    assert "{b} names no declared parameter" in info.value.message


def test_an_entry_point_without_command(project: Project) -> None:
    with pytest.raises(SpecError, match="entry point 'no_command' has no `command`"):
        get_entry_point(project, "no_command")


def test_script_entry_points(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHELL", "/bin/zsh")
    assert get_entry_point(project, "train.py").command == "python train.py"
    assert get_entry_point(project, "run.sh").command == "/bin/zsh run.sh"
    monkeypatch.delenv("SHELL")
    assert get_entry_point(project, "run.sh").command == "bash run.sh"
    resolved = resolve_command(project, "train.py", {"x": "1"}, Path("/"))
    assert resolved.command == "python train.py --x 1"


def test_unknown_entry_points(project: Project) -> None:
    with pytest.raises(SpecError) as info:
        get_entry_point(project, "trian")
    assert "Could not find trian among entry points ['main', 'braces'," in info.value.message
    assert "Supported script file extensions: ['.py', '.sh', '.R']" in info.value.message
    with pytest.raises(SpecError, match=r"no file missing\.py"):
        get_entry_point(project, "missing.py")


def test_relative_path_default_resolves_against_the_project(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        files={
            "MLproject": "entry_points:\n  main:\n    parameters:\n"
            "      d: {type: path, default: gone.csv}\n    command: cat {d}\n"
        },
    )
    project = load_project(tmp_path)
    with pytest.raises(
        ParamError, match=f"no such file or directory was found \\({tmp_path}/gone.csv\\)"
    ):
        resolve_command(project, "main", {}, Path("/"))
    resolved = resolve_command(project, "main", {"d": str(tmp_path)}, Path("/"))
    assert resolved.command == f"cat {tmp_path}"
