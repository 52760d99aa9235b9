"""load_python_env / load_conda_env: typed objects, and located errors for what MLflow refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.errors import SpecError
from mlproj.spec import load_conda_env, load_python_env, validate_path
from mlproj.spec.envfiles import CondaEnv, PythonEnv


def test_python_env(tmp_path: Path) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text('python: "3.11"\nbuild_dependencies: [pip]\ndependencies:\n  - -r req.txt\n')
    assert load_python_env(f) == PythonEnv("3.11", ("pip",), ("-r req.txt",))


def test_build_dependencies_as_a_mapping_install_its_keys_with_a_warning(
    tmp_path: Path,
) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text('python: "3.11"\nbuild_dependencies: {pip: "24.0", wheel: null}\n')
    env = load_python_env(f)  # MLflow runs it (installing the keys): so does mlproj
    assert env.build_dependencies == ("pip", "wheel")
    assert env.warnings == (
        "python_env.yaml:2: `build_dependencies` is a mapping, not a list; as MLflow does, its "
        "keys are installed (pip, wheel) and the values ignored; to pin them write a list: "
        "[pip==24.0]",
    )
    problems = validate_path(tmp_path / "python_env.yaml")
    assert [p.severity for p in problems] == ["warning"]


def test_python_env_all_optional(tmp_path: Path) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text("python:\ndependencies:\n")
    assert load_python_env(f) == PythonEnv()


@pytest.mark.parametrize(
    "text,words",
    [
        (
            "python: 3.10\n",
            ":1:9: `python` must be a version string, not the number 3.10; "
            'quote it: python: "3.10"',
        ),
        ("python: '3.11'\nrequirements: [numpy]\n", ":2:1: unknown key 'requirements'"),
        ("dependencies: numpy\n", ":1:15: `dependencies` must be a list"),
        ("dependencies: [numpy, 2]\n", ":1:23: entries of `dependencies` must be strings"),
        ("[pip]\n", ":1:1: python_env.yaml is a list, not a mapping"),
        (
            "dependencies:\n  - numpy\n  - pip:\n      - torch==2.3\n      - -r req.txt\n",
            ":3:5: this is conda.yaml syntax; python_env dependencies are a flat list of pip "
            "requirements: write `dependencies: [numpy, torch==2.3, -r req.txt]`",
        ),
    ],
)
def test_python_env_errors(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text(text)
    with pytest.raises(SpecError) as info:
        load_python_env(f)
    assert words in info.value.message


def test_conda_env(tmp_path: Path) -> None:
    f = tmp_path / "conda.yml"
    f.write_text(
        "name: x\nchannels: [conda-forge, ./local-channel]\ndependencies:\n  - python=3.11\n"
        "  - numpy>=1.26,<2\n  - pip\n  - pip:\n    - mlflow>=2\n    - -e .\n"
        "  - pip: [--index-url ./wheels]\nvariables: {A: b}\nprefix: /opt/env\n"
    )
    assert load_conda_env(f) == CondaEnv(
        "x",
        ("conda-forge", "./local-channel"),
        ("python=3.11", "numpy>=1.26,<2", "pip"),
        ("mlflow>=2", "-e .", "--index-url ./wheels"),
    )


def test_conda_env_minimal(tmp_path: Path) -> None:
    f = tmp_path / "conda.yaml"
    f.write_text("dependencies:\n  - python\n  - pip:\n")
    assert load_conda_env(f) == CondaEnv(None, (), ("python",), ())


@pytest.mark.parametrize(
    "text,words",
    [
        ("channels: conda-forge\n", ":1:11: `channels` must be a list"),
        ("dependencies:\n  - 3.10\n", ":2:5: entries of `dependencies` must be package specs"),
        (
            "dependencies:\n  - {pip: [a], conda: [b]}\n",
            ":2:5: a mapping in `dependencies` can only be the `pip:` list",
        ),
        ("dependencies: numpy\n", ":1:15: `dependencies` must be a list of packages"),
        ("", ":1:1: conda.yaml is empty"),
    ],
)
def test_conda_env_errors(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "conda.yaml"
    f.write_text(text)
    with pytest.raises(SpecError) as info:
        load_conda_env(f)
    assert words in info.value.message


def test_unknown_conda_keys_are_only_warnings(tmp_path: Path) -> None:
    f = tmp_path / "conda.yaml"
    f.write_text("chanels: [x]\ndependencies: [numpy]\n")
    assert load_conda_env(f).dependencies == ("numpy",)
    assert [str(p) for p in validate_path(f)] == [
        f"{f}:1:1: warning: unknown key 'chanels' in conda.yaml, ignored; did you mean 'channels'?"
    ]


def test_validate_takes_a_single_env_file(tmp_path: Path) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text("python: 3.10\n")
    assert [(p.line, p.column, p.severity) for p in validate_path(f)] == [(1, 9, "error")]


def test_several_mlproject_files_are_flagged(tmp_path: Path) -> None:
    for name in ("MLproject", "mlproject"):
        (tmp_path / name).write_text("entry_points: {main: {command: x}}\n")
    problems = validate_path(tmp_path)
    assert [p.message for p in problems] == [
        "several MLproject files (MLproject, mlproject); mlproj reads MLproject, MLflow "
        "whichever it lists first"
    ]
