"""A small virtualenv project in a git repo, a wheel dir whose contents a test can change, and a
training script that logs metrics straight into the file store (no mlflow in the env)."""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from tests.envs.conftest import no_pip_config, uv_cache, wheelhouse
from tests.sources.gitrepos import commit_files, git

__all__ = ["no_pip_config", "uv_cache", "wheelhouse"]

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"

MLPROJECT = """\
name: repro
python_env: python_env.yaml
entry_points:
  main:
    parameters:
      lr: {type: float, default: 0.1}
      epochs: {type: int, default: 3}
    command: "python train.py {lr} {epochs}"
"""

PYTHON_ENV = f"""\
python: "{PYTHON}"
dependencies:
  - mlpt-alpha
"""

TRAIN = """\
import os, sys, time, urllib.parse
import mlpt_alpha

def log_metric(key, value):
    root = urllib.parse.urlparse(os.environ["MLFLOW_TRACKING_URI"]).path
    folder = os.path.join(root, os.environ["MLFLOW_EXPERIMENT_ID"], os.environ["MLFLOW_RUN_ID"],
                          "metrics")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, key), "a") as fh:
        fh.write(f"{int(time.time() * 1000)} {value!r} 0\\n")

lr, epochs = float(sys.argv[1]), int(sys.argv[2])
scale = float(open("SCALE").read()) if os.path.exists("SCALE") else 1.0
loss = 1.0
for epoch in range(epochs):
    loss = loss * (1 - lr) / 3.0 * float(mlpt_alpha.VERSION) * scale
log_metric("loss", loss)
log_metric("accuracy", 1 - loss / 7.0)
print("alpha", mlpt_alpha.VERSION, "loss", repr(loss))
"""

FILES = {"MLproject": MLPROJECT, "python_env.yaml": PYTHON_ENV, "train.py": TRAIN}


@pytest.fixture
def index(
    tmp_path: Path, wheelhouse: Path, no_pip_config: None, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A local wheel dir holding only mlpt-alpha 1.0; `publish(index, "2.0")` adds 2.0."""
    wheels = tmp_path / "index"
    wheels.mkdir()
    shutil.copy(next(wheelhouse.glob("mlpt_alpha-1.0-*.whl")), wheels)
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    return wheels


def publish(index: Path, wheelhouse: Path, version: str) -> None:
    shutil.copy(next(wheelhouse.glob(f"mlpt_alpha-{version}-*.whl")), index)


def run_id(stderr: str) -> str:
    """The id of the run an `mlproj run` or `reproduce` started (its `mlproj: run ID` line)."""
    line = next(x for x in stderr.splitlines() if x.startswith("mlproj: run "))
    return line.split()[2]


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A work tree with the project in `models/repro`, and the file:// URL of a bare clone."""
    work = tmp_path / "work"
    git("init", "-q", str(work))
    commit_files(work, {f"models/repro/{k}": textwrap.dedent(v) for k, v in FILES.items()}, "init")
    bare = tmp_path / "served" / "repo.git"
    bare.parent.mkdir()
    git("clone", "-q", "--bare", str(work), str(bare))
    git("remote", "add", "origin", bare.as_uri(), cwd=work)
    return work, bare.as_uri()
