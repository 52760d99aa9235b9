"""Choosing a user's conda/mamba/micromamba and the command lines given to it (no conda can be
installed here, so only the choice and the argument construction are tested), and channel
name resolution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlproj.envs.conda.channels import default_alias, expand_defaults, resolve_channels
from mlproj.envs.conda.exe import find_conda_exe
from mlproj.envs.conda.manager import MANAGER
from mlproj.errors import EnvError
from tests.envs.conda.conftest import options, write_conda_project


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_no_exe_means_rattler() -> None:
    assert find_conda_exe(None, {}) is None


def test_the_option_wins_over_the_variables(tmp_path: Path) -> None:
    mine = _executable(tmp_path / "mine" / "micromamba")
    other = _executable(tmp_path / "other" / "conda")
    env = {"MLPROJ_CONDA_EXE": str(other), "MLFLOW_CONDA_HOME": str(tmp_path)}
    found = find_conda_exe(str(mine), env)
    assert found is not None
    assert (found.path, found.flavor, found.source) == (mine, "micromamba", "--conda-exe")


def test_mlproj_variable_then_mlflow_home(tmp_path: Path) -> None:
    mamba = _executable(tmp_path / "bin" / "mamba")
    conda = _executable(tmp_path / "bin" / "conda")
    found = find_conda_exe(None, {"MLPROJ_CONDA_EXE": str(mamba), "MLFLOW_CONDA_HOME": "/x"})
    assert found is not None and (found.path, found.flavor) == (mamba, "conda")
    found = find_conda_exe(None, {"MLFLOW_CONDA_HOME": str(tmp_path)})
    assert found is not None and found.path == conda
    found = find_conda_exe(
        None, {"MLFLOW_CONDA_HOME": str(tmp_path), "MLFLOW_CONDA_CREATE_ENV_CMD": "mamba"}
    )
    assert found is not None and found.path == mamba


def test_a_name_is_looked_up_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = _executable(tmp_path / "bin" / "micromamba")
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    found = find_conda_exe("micromamba", {})
    assert found is not None and found.path == tool


def test_a_missing_exe_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EnvError, match="MLFLOW_CONDA_HOME: no executable"):
        find_conda_exe(None, {"MLFLOW_CONDA_HOME": str(tmp_path / "nowhere")})
    with pytest.raises(EnvError, match="--conda-exe: no executable"):
        find_conda_exe(str(tmp_path / "conda"), {})


def test_command_lines(tmp_path: Path) -> None:
    conda = find_conda_exe(str(_executable(tmp_path / "conda")), {})
    micro = find_conda_exe(str(_executable(tmp_path / "micromamba")), {})
    assert conda is not None and micro is not None
    prefix, yml, explicit = Path("/envs/k"), Path("/p/conda.yml"), Path("/t/explicit.txt")
    assert conda.create_argv(prefix, yml) == [
        str(conda.path),
        "env",
        "create",
        "--prefix",
        "/envs/k",
        "--file",
        "/p/conda.yml",
    ]
    assert micro.create_argv(prefix, yml) == [
        str(micro.path),
        "create",
        "--yes",
        "--prefix",
        "/envs/k",
        "--file",
        "/p/conda.yml",
    ]
    for exe in (conda, micro):
        assert exe.explicit_argv(prefix, explicit) == [
            str(exe.path),
            "create",
            "--yes",
            "--prefix",
            "/envs/k",
            "--file",
            "/t/explicit.txt",
        ]


def test_the_exe_shapes_the_plan_and_the_key(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    tool = _executable(tmp_path / "bin" / "micromamba")
    with_rattler = MANAGER.plan(project, options())
    with_exe = MANAGER.plan(project, options(conda_exe=str(tool)))
    assert with_exe["installer"] == f"micromamba {tool}"
    assert with_exe["key"] != with_rattler["key"]


def test_defaults_and_nodefaults() -> None:
    assert expand_defaults([], {}) == ["conda-forge"]
    assert expand_defaults(["defaults"], {"MLPROJ_DEFAULT_CHANNELS": "a, b"}) == ["a", "b"]
    assert expand_defaults(["pytorch", "nodefaults", "conda-forge"], {}) == [
        "pytorch",
        "conda-forge",
    ]
    assert expand_defaults(["conda-forge", "defaults"], {}) == ["conda-forge"]


def test_names_use_the_alias_and_urls_stay(tmp_path: Path) -> None:
    env = {"MLPROJ_CHANNEL_ALIAS": "https://mirror.invalid/conda"}
    urls = resolve_channels(
        ["conda-forge", "pytorch/label/nightly", "https://other.invalid/chan", "./local"],
        tmp_path,
        env,
    )
    assert urls == (
        "https://mirror.invalid/conda/conda-forge/",
        "https://mirror.invalid/conda/pytorch/label/nightly/",
        "https://other.invalid/chan/",
        (tmp_path / "local").as_uri() + "/",
    )
    default = resolve_channels(["conda-forge"], tmp_path, {})
    assert default == (default_alias().rstrip("/") + "/conda-forge/",)
