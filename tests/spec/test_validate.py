"""`validate_path` and `mlproj validate`: every problem at once, at the right place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlproj.errors import SpecError
from mlproj.spec import Problem, load_project, validate_path
from tests.helpers import run_cli, write_project

LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 42\n"

# (id, files, expected problems as (file, line, column, severity, words in the message))
CASES: list[tuple[str, dict[str, str | bytes], list[tuple[str, int, int, str, str]]]] = [
    (
        "entry_points as a list",
        {"MLproject": "entry_points:\n  - main:\n      command: echo\n"},
        [("MLproject", 2, 3, "error", "not a list; remove the '-'")],
    ),
    (
        "docker_env image given as a string",
        {"MLproject": "name: x\ndocker_env: python:3.11\nentry_points: {}\n"},
        [("MLproject", 2, 13, "error", "docker_env must be a mapping with `image: python:3.11`")],
    ),
    (
        "docker_env without image",
        {"MLproject": "name: x\ndocker_env:\n  image_name: python:3.11\n"},
        [
            (
                "MLproject",
                3,
                3,
                "warning",
                "unknown key 'image_name' in docker_env, ignored; did you mean 'image'?",
            ),
            ("MLproject", 3, 3, "error", "no image attribute found"),
        ],
    ),
    (
        "docker volumes and environment shapes",
        {
            "MLproject": "name: x\ndocker_env:\n  image: i\n  volumes: /a:/b\n"
            "  environment: [[A], {B: 1}]\n  gpus: some\n"
        },
        [
            ("MLproject", 4, 12, "error", "volumes must be a list of strings"),
            ("MLproject", 5, 17, "error", "[NAME, value]"),
            ("MLproject", 5, 22, "error", "[NAME, value]"),
            ("MLproject", 6, 9, "error", 'gpus must be "all" or a number'),
        ],
    ),
    (
        "docker project without a name",
        {"MLproject": "docker_env: {image: i}\n"},
        [
            ("MLproject", 1, 1, "warning", "has no `name:`"),
            ("MLproject", 1, 1, "error", "declares no entry points"),
        ],
    ),
    (
        "parameters left empty",
        {"MLproject": "entry_points:\n  main:\n    parameters:\n    command: echo\n"},
        [("MLproject", 3, 5, "error", "`parameters:` of entry point 'main' is empty")],
    ),
    (
        "several environment sections",
        {
            "MLproject": "conda_env: c.yaml\npython_env: p.yaml\n",
            "c.yaml": "name: c\n",
            "p.yaml": "python: '3.11'\n",
        },
        [("MLproject", 2, 1, "error", "several environments (conda_env, python_env)")],
    ),
    (
        "missing environment files",
        {"MLproject": "conda_env: envs/conda.yaml\n"},
        [("MLproject", 1, 12, "error", "Project specified conda environment file ")],
    ),
    (
        "missing python_env file",
        {"MLproject": "python_env: py.yaml\n"},
        [("MLproject", 1, 13, "error", "Project specified python_env file ")],
    ),
    (
        "placeholders that name no parameter",
        {
            "MLproject": "entry_points:\n  main:\n    parameters: {alpha: float}\n"
            "    command: python t.py {alpah} {beta} ${HOME}\n"
        },
        [
            (
                "MLproject",
                4,
                14,
                "error",
                "{alpah} names no declared parameter; did you mean "
                "'alpha'?; placeholder {beta} names no declared parameter; declare it under "
                "parameters, or write {{beta}}; placeholder {HOME} names no declared parameter; "
                "for the shell variable write ${{HOME}}",
            )
        ],
    ),
    (
        "stray braces",
        {
            "MLproject": "entry_points:\n  a: {command: 'echo }'}\n  b: {command: 'echo {'}\n"
            "  c: {command: 'find . -exec rm {} +'}\n"
        },
        [
            ("MLproject", 2, 16, "error", "stray brace"),
            ("MLproject", 3, 16, "error", "stray brace"),
            ("MLproject", 4, 16, "error", "placeholder {} is positional"),
        ],
    ),
    (
        "type:int glued to its value",
        {
            "MLproject": "entry_points:\n  main:\n    parameters:\n"
            "      n: {type:int, default:10}\n"
            "    command: echo {n}\n"
        },
        [
            (
                "MLproject",
                4,
                11,
                "warning",
                "'type:int' is read as one key because there is no "
                "space after ':'; the parameter is therefore required and untyped; "
                "write 'type: int'",
            ),
            ("MLproject", 4, 21, "warning", "write 'default: 10'"),
        ],
    ),
    (
        "misspelled keys",
        {"MLproject": "entry_points:\n  main:\n    paramters: {}\n    comand: echo\n"},
        [
            ("MLproject", 2, 3, "error", "entry point 'main' has no `command`"),
            ("MLproject", 3, 5, "warning", "did you mean 'parameters'?"),
            ("MLproject", 4, 5, "warning", "did you mean 'command'?"),
        ],
    ),
    (
        "misspelled parameter keys and types",
        {
            "MLproject": "entry_points:\n  main:\n    parameters:\n"
            "      a: {type: flaot, defualt: 1}\n      b: weird\n    command: echo {a} {b}\n"
        },
        [
            (
                "MLproject",
                4,
                17,
                "warning",
                "unknown parameter type 'flaot', treated as string; did you mean 'float'?",
            ),
            ("MLproject", 4, 24, "warning", "did you mean 'default'?"),
            ("MLproject", 5, 10, "warning", "unknown parameter type 'weird'"),
        ],
    ),
    (
        "unknown top-level keys",
        {"MLproject": "version: 1\nname: x\nentry_point: {}\n"},
        [
            ("MLproject", 1, 1, "warning", "unknown key 'version' at the top level"),
            ("MLproject", 1, 1, "error", "declares no entry points"),
            ("MLproject", 3, 1, "warning", "did you mean 'entry_points'?"),
        ],
    ),
    (
        "duplicate keys",
        {
            "MLproject": "name: a\nname: b\nentry_points:\n  main: {command: echo 1}\n"
            "  main: {command: echo 2}\n"
        },
        [
            ("MLproject", 2, 1, "warning", "duplicate key 'name' (first at line 1)"),
            ("MLproject", 5, 3, "warning", "duplicate key 'main' (first at line 4)"),
        ],
    ),
    (
        "default None is a string",
        {
            "MLproject": "entry_points:\n  main:\n    parameters:\n      x: {type: string, "
            "default: None}\n    command: echo {x}\n"
        },
        [("MLproject", 4, 34, "warning", 'the string "None"; write `null`')],
    ),
    (
        "defaults of the wrong type",
        {
            "MLproject": "entry_points:\n  main:\n    parameters:\n"
            "      a: {type: int, default: 1.5}\n      b: {type: float, default: fast}\n"
            "      c: {type: bool, default: maybe}\n      d: {type: uri, default: rel/x}\n"
            "      e: {type: path, default: nothere}\n      f: {type: string, default: [1, 2]}\n"
            "    command: echo {a}{b}{c}{d}{e}{f}\n"
        },
        [
            ("MLproject", 4, 31, "warning", "default '1.5' of int parameter 'a' is not a whole"),
            ("MLproject", 5, 33, "warning", "not a number"),
            ("MLproject", 6, 32, "warning", "not a boolean"),
            ("MLproject", 7, 31, "warning", "neither a URI"),
            ("MLproject", 8, 32, "warning", "does not exist"),
            ("MLproject", 9, 34, "warning", "is a list; it is passed as the text [1, 2]"),
        ],
    ),
    (
        "Git LFS pointer as a path default",
        {
            "MLproject": "entry_points:\n  main:\n    parameters:\n"
            "      data: {type: path, default: data/train.csv}\n    command: echo {data}\n",
            "data/train.csv": LFS,
        },
        [("MLproject", 4, 35, "warning", "Git LFS pointer, not the data; run `git lfs pull`")],
    ),
    (
        "Git LFS pointer as the MLproject",
        {"MLproject": LFS},
        [("MLproject", 1, 1, "error", "Git LFS pointer")],
    ),
    (
        "YAML syntax error",
        {"MLproject": "name: x\nentry_points:\n  main: {command: echo\n"},
        [("MLproject", 4, 1, "error", "YAML syntax error")],
    ),
    (
        "tabs",
        {"MLproject": "entry_points:\n\tmain:\n"},
        [("MLproject", 2, 1, "error", "YAML syntax error")],
    ),
    (
        "entry point as a string",
        {"MLproject": "entry_points:\n  main: python train.py\n"},
        [("MLproject", 2, 9, "error", "write `main:` and under it `command: 'python train.py'`")],
    ),
    (
        "parameter as a number",
        {"MLproject": "entry_points:\n  main:\n    parameters: {n: 5}\n    command: echo {n}\n"},
        [("MLproject", 3, 21, "error", "for a default write `{type: ..., default: 5}`")],
    ),
    (
        "python_env.yaml problems",
        {
            "MLproject": "python_env: python_env.yaml\n",
            "python_env.yaml": "python: 3.10\ndependencies: numpy\npackages: []\n",
        },
        [
            ("MLproject", 1, 1, "error", "declares no entry points"),
            ("python_env.yaml", 1, 9, "error", 'quote it: python: "3.10"'),
            ("python_env.yaml", 2, 15, "error", "`dependencies` must be a list"),
            ("python_env.yaml", 3, 1, "error", "unknown key 'packages'"),
        ],
    ),
    (
        "conda.yaml problems",
        {
            "conda.yaml": "name: x\nchannels: conda-forge\ndependencies:\n  - 3.10\n"
            "  - {pip: [a], other: 1}\n  - pip: [1]\nchanels: []\n",
            "train.py": "",
        },
        [
            ("conda.yaml", 2, 11, "error", "`channels` must be a list"),
            ("conda.yaml", 4, 5, "error", 'quote it: "3.10"'),
            ("conda.yaml", 5, 5, "error", "can only be the `pip:` list"),
            ("conda.yaml", 6, 11, "error", "entries of `pip` must be strings"),
            ("conda.yaml", 7, 1, "warning", "did you mean 'channels'?"),
        ],
    ),
    (
        "empty MLproject",
        {"MLproject": ""},
        [("MLproject", 1, 1, "error", "the MLproject file is empty")],
    ),
    (
        "MLproject that is a list",
        {"MLproject": "- a\n- b\n"},
        [("MLproject", 1, 1, "error", "must be a mapping of keys")],
    ),
]


@pytest.mark.parametrize("files,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_problems(
    tmp_path: Path,
    files: dict[str, str | bytes],
    expected: list[tuple[str, int, int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(write_project(tmp_path, files=files, dedent=False))
    found = validate_path(Path("."))
    assert [(str(p.file), p.line, p.column, p.severity) for p in found] == [
        e[:4] for e in expected
    ], "\n".join(map(str, found))
    for problem, (*_, words) in zip(found, expected, strict=True):
        assert words in problem.message


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    write_project(tmp_path, files={"MLproject": "version: 1\nentry_points: {main: {command: x}}\n"})
    assert [p.severity for p in validate_path(tmp_path)] == ["warning"]
    assert [p.severity for p in validate_path(tmp_path, strict=True)] == ["error"]


def test_an_mlproject_file_path_is_accepted(tmp_path: Path) -> None:
    write_project(tmp_path, files={"MLProject": "entry_points: []\n"})
    assert [p.file for p in validate_path(tmp_path / "MLProject")] == [tmp_path / "MLProject"]


def test_missing_path(tmp_path: Path) -> None:
    assert validate_path(tmp_path / "nope") == [
        Problem(tmp_path / "nope", 1, 1, "error", "no such file or directory")
    ]


def test_problem_text_format() -> None:
    problem = Problem(Path("p/MLproject"), 3, 7, "warning", "something")
    assert str(problem) == "p/MLproject:3:7: warning: something"


def test_load_project_refuses_what_validate_calls_an_error(tmp_path: Path) -> None:
    write_project(tmp_path, files={"MLproject": "entry_points:\n  - main\n"})
    with pytest.raises(SpecError, match=r"MLproject:2:3: entry_points must be a mapping"):
        load_project(tmp_path)


def test_load_project_accepts_what_mlflow_accepts_despite_warnings(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        files={
            "MLproject": "version: 2\nentry_points:\n  main:\n"
            "    parameters: {n: {type:int, default:10}}\n"
            "    command: echo {n}\n"
        },
    )
    project = load_project(tmp_path)
    # as in MLflow: the flow mapping holds two keys with null values, so `n` is a required string
    assert project.entry_points["main"].parameters[0].required


def test_cli_exit_codes_and_output(tmp_path: Path) -> None:
    good = write_project(
        tmp_path / "good", files={"MLproject": "entry_points: {main: {command: x}}\n"}
    )
    bad = write_project(tmp_path / "bad", files={"MLproject": "version: 1\nentry_points: []\n"})
    ok = run_cli(["validate", str(good)])
    assert (ok.returncode, ok.stdout) == (0, "")
    assert "valid (0 errors, 0 warnings)" in ok.stderr
    result = run_cli(["validate", str(bad)])
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}/MLproject:1:1: warning: unknown key 'version' at the top level, ignored",
        f"{bad}/MLproject:2:15: error: entry_points must be a mapping of names to "
        "{command, parameters}, not a list; remove the '-' before each name",
    ]
    assert "Traceback" not in result.stderr


def test_cli_strict_and_json(tmp_path: Path) -> None:
    write_project(tmp_path, files={"MLproject": "version: 1\nentry_points: {main: {command: x}}\n"})
    assert run_cli(["validate", str(tmp_path)]).returncode == 0
    strict = run_cli(["validate", "--strict", "--json", str(tmp_path)])
    assert strict.returncode == 1
    report = json.loads(strict.stdout)
    assert report["valid"] is False
    assert report["problems"] == [
        {
            "file": f"{tmp_path}/MLproject",
            "line": 1,
            "column": 1,
            "severity": "error",
            "message": "unknown key 'version' at the top level, ignored",
        }
    ]


def test_cli_missing_path(tmp_path: Path) -> None:
    result = run_cli(["validate", str(tmp_path / "nope")])
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_cli_accepts_a_file_url(tmp_path: Path) -> None:
    write_project(tmp_path, files={"MLproject": "version: 1\nentry_points: {main: {command: x}}\n"})
    result = run_cli(["validate", "--strict", f"file://{tmp_path}"])
    assert result.returncode == 1
    assert "unknown key 'version'" in result.stdout
