"""A user's own conda, mamba or micromamba, used instead of rattler when asked for.

Asked for with `--conda-exe PATH`, else MLPROJ_CONDA_EXE, else MLflow's MLFLOW_CONDA_HOME
(`$MLFLOW_CONDA_HOME/bin/conda`, or the MLFLOW_CONDA_CREATE_ENV_CMD binary there, e.g. mamba).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mlproj.envs.buildlog import BuildLog
from mlproj.errors import EnvError

CONDA_EXE_ENV = "MLPROJ_CONDA_EXE"
Flavor = Literal["conda", "micromamba"]  # mamba speaks conda's command line


@dataclass(frozen=True)
class CondaExe:
    path: Path
    flavor: Flavor
    source: str  # where the choice came from, for messages

    def create_argv(self, prefix: Path, conda_file: Path) -> list[str]:
        """Create `prefix` from a conda.yml (its pip: section included)."""
        if self.flavor == "micromamba":
            return self._create(prefix, conda_file)
        return [str(self.path), "env", "create", "--prefix", str(prefix), "--file", str(conda_file)]

    def explicit_argv(self, prefix: Path, explicit_file: Path) -> list[str]:
        """Create `prefix` from an `@EXPLICIT` list: exactly those packages, no solve."""
        return self._create(prefix, explicit_file)

    def _create(self, prefix: Path, file: Path) -> list[str]:
        return [str(self.path), "create", "--yes", "--prefix", str(prefix), "--file", str(file)]


def find_conda_exe(
    requested: str | None, environ: Mapping[str, str] | None = None
) -> CondaExe | None:
    """The conda-like executable the user asked for, or None for rattler."""
    env = os.environ if environ is None else environ
    if requested:
        return _resolve(requested, "--conda-exe")
    if env.get(CONDA_EXE_ENV):
        return _resolve(env[CONDA_EXE_ENV], CONDA_EXE_ENV)
    home = env.get("MLFLOW_CONDA_HOME")
    if home:
        name = env.get("MLFLOW_CONDA_CREATE_ENV_CMD") or "conda"
        return _resolve(str(Path(home) / "bin" / name), "MLFLOW_CONDA_HOME")
    return None


def flavor_of(path: Path) -> Flavor:
    return "micromamba" if "micromamba" in path.name.lower() else "conda"


def run_exe(argv: Sequence[str], reporter: BuildLog, what: str) -> None:
    reporter.run(argv, what=f"{Path(argv[0]).name} ({what})")


def _resolve(value: str, source: str) -> CondaExe:
    candidate = Path(value).expanduser() if os.sep in value else None
    found = str(candidate) if candidate else shutil.which(value)
    if not found or not os.path.isfile(found) or not os.access(found, os.X_OK):
        raise EnvError(
            f"{source}: no executable conda, mamba or micromamba at {value!r}",
            "give the full path of the executable, or drop it to use rattler",
        )
    path = Path(found).absolute()
    return CondaExe(path, flavor_of(path), source)
