from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.errors import SpecError
from mlproj.spec import load_conda_env, load_python_env
from mlproj.spec.model import CondaEnv, PythonEnv


def test_python_env(tmp_path: Path) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text('python: "3.11"\nbuild_dependencies: [pip]\ndependencies:\n  - -r req.txt\n')
    assert load_python_env(f) == PythonEnv("3.11", ("pip",), ("-r req.txt",))


def test_python_env_float_version(tmp_path: Path) -> None:
    f = tmp_path / "python_env.yaml"
    f.write_text("python: 3.10\n")
    with pytest.raises(SpecError, match="python"):
        load_python_env(f)


def test_conda_env(tmp_path: Path) -> None:
    f = tmp_path / "conda.yml"
    f.write_text(
        "name: x\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n"
        "  - pip:\n    - mlflow>=2\n    - -e .\n"
    )
    assert load_conda_env(f) == CondaEnv("x", ("conda-forge",), ("python=3.11", "pip"),
                                         ("mlflow>=2", "-e ."))
