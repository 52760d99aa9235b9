"""Fixtures: a local file:// conda channel (built once per session, copied per test), conda
projects written into tmp dirs, and a LogSink that collects a launched command's output."""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from mlproj.envs.base import EnvOptions, PreparedEnv
from mlproj.proc import LaunchRequest, Stream
from mlproj.spec.model import EnvDecl, Project
from tests.envs.conda import channel as chan


@pytest.fixture(scope="session")
def channel_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return chan.build_channel(tmp_path_factory.mktemp("conda-channel") / "channel")


@pytest.fixture
def channel(channel_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the channel (tests may add packages or remove its repodata)."""
    target = tmp_path / "channel"
    shutil.copytree(channel_template, target)
    return target


@pytest.fixture(autouse=True)
def _isolated_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no pip.conf of this machine's user
    for var in (
        "MLPROJ_CONDA_EXE",
        "MLFLOW_CONDA_HOME",
        "MLFLOW_CONDA_CREATE_ENV_CMD",
        "MLPROJ_CHANNEL_ALIAS",
        "MLPROJ_DEFAULT_CHANNELS",
        "VIRTUAL_ENV",
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "PIP_FIND_LINKS",
        "PIP_NO_INDEX",
        "UV_INDEX_URL",
        "UV_DEFAULT_INDEX",
        "UV_EXTRA_INDEX_URL",
        "UV_FIND_LINKS",
        "UV_NO_INDEX",
    ):
        monkeypatch.delenv(var, raising=False)


def write_conda_project(
    root: Path,
    channels: Sequence[str],
    deps: Sequence[str],
    pip: Sequence[str] = (),
    extra: str = "",
) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    lines = ["name: test-env", "channels:"] + [f"  - {c}" for c in channels]
    lines += ["dependencies:"] + [f"  - {d}" for d in deps]
    if pip:
        lines += ["  - pip:"] + [f"      - {p}" for p in pip]
    conda_file = root / "conda.yml"
    conda_file.write_text("\n".join(lines) + "\n" + extra)
    (root / "MLproject").write_text(
        textwrap.dedent("""\
        name: conda-test
        conda_env: conda.yml
        entry_points:
          main:
            command: "mlp-app"
    """)
    )
    return Project(directory=root, name="conda-test", env=EnvDecl(kind="conda", file=conda_file))


def options(**kw: object) -> EnvOptions:
    return EnvOptions(manager="conda", **kw)  # type: ignore[arg-type]


class Collect:
    def __init__(self) -> None:
        self.out: dict[Stream, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self._lock = threading.Lock()

    def write(self, stream: Stream, data: bytes) -> None:
        with self._lock:
            self.out[stream] += data


def launch(prepared: PreparedEnv, command: str, cwd: Path) -> tuple[int, str, str]:
    sink = Collect()
    execution = prepared.launch(LaunchRequest(command, cwd, dict(os.environ), sink))
    try:
        code = execution.wait(timeout=60)
    finally:
        execution.close()
    assert code is not None, "the command did not finish"
    return code, sink.out["stdout"].decode(), sink.out["stderr"].decode()
