"""Fixtures for the virtualenv tests: a local wheelhouse and an install setup with no index.

None of them is autouse, so tests/envs/conda/ is not affected unless it asks for them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from mlproj.envs.base import EnvPatch
from mlproj.spec.model import EnvDecl, EnvKind, Project
from tests.envs.pkgs import build_wheelhouse

INDEX_VARS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_NO_INDEX",
    "PIP_CONSTRAINT",
    "PIP_CONFIG_FILE",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_INDEX",
    "UV_FIND_LINKS",
    "UV_NO_INDEX",
    "UV_CONSTRAINT",
    "UV_INDEX_STRATEGY",
    "VIRTUAL_ENV",
)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))


@pytest.fixture(scope="session")
def uv_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("uv-cache")


@pytest.fixture
def no_pip_config(monkeypatch: pytest.MonkeyPatch, uv_cache: Path) -> None:
    """No pip configuration of this machine, no index variables; a private uv cache."""
    for var in INDEX_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("UV_CACHE_DIR", str(uv_cache))


@pytest.fixture
def offline(no_pip_config: None, monkeypatch: pytest.MonkeyPatch, wheelhouse: Path) -> Path:
    """pip configured (through PIP_* variables) to install only from the local wheelhouse."""
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheelhouse))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    return wheelhouse


def project(
    directory: Path,
    env_file: str | None = None,
    text: str = "",
    kind: EnvKind = "python",
    files: Mapping[str, str] | None = None,
) -> Project:
    """A project directory with an env file (and other files: name -> text)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in (files or {}).items():
        (directory / name).write_text(content)
    if env_file is None:
        return Project(directory, None, EnvDecl(kind))
    (directory / env_file).write_text(text)
    return Project(directory, None, EnvDecl(kind, directory / env_file))


def run_in(
    patch: EnvPatch, command: str, cwd: Path, base: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run shell text with an env's activation applied (as a run would)."""
    env = patch.apply(dict(os.environ if base is None else base))
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
