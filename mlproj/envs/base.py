"""The small interface every environment manager meets (local, virtualenv/uv, conda, docker).

A manager turns a project's declared environment into a `PreparedEnv`: a ready, cached
environment that can launch the entry point's command. Activation is data (`EnvPatch`) or a
container, never `source activate && ...`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from mlproj._util.record import Record, field
from mlproj.proc import Execution, LaunchRequest
from mlproj.spec.model import Project


class EnvPatch(Record):
    """How to activate an environment for a child process, as data."""

    set_vars: Mapping[str, str] = field(default_factory=dict)
    path_prepend: tuple[str, ...] = ()
    unset_vars: tuple[str, ...] = ()

    def apply(self, base: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in self.unset_vars}
        env.update(self.set_vars)
        if self.path_prepend:
            old = env.get("PATH", os.defpath)
            env["PATH"] = os.pathsep.join([*self.path_prepend, old])
        return env


class EnvOptions(Record):
    """Everything from the command line that shapes how an environment is built or run."""

    manager: str  # the selected manager name (see envs.select_manager)
    frozen: bool = False  # refuse a stale conda-lock.yml instead of warning
    conda_exe: str | None = None  # use this conda/mamba/micromamba instead of py-rattler
    python_downloads: bool = True  # False = `--no-python-downloads`: never install a Python
    # docker
    build_image: bool = True  # False = `--no-build`: run the base image, code mounted read-only
    docker_args: tuple[tuple[str, str | None], ...] = ()  # -A name=value / -A flag
    gpus: str | None = None
    shm_size: str | None = None
    network: str | None = None
    keep_container: bool = False
    # recorded locks (mlproj reproduce)
    extra: Mapping[str, Any] = field(default_factory=dict)


class EnvFacts(Record):
    """What a manager built or reused, as values; `tags()` is how a run records them."""

    manager: str
    project_env: str  # MLflow's `mlflow.project.env`: local, virtualenv, conda, docker
    key: str | None = None  # the cache key; None when nothing is cached
    # mlproj.env.<name> facts, e.g. python, lock_sha256, installer, lockfile
    details: Mapping[str, str] = field(default_factory=dict)
    extra_tags: Mapping[str, str] = field(default_factory=dict)  # e.g. the docker image

    def tags(self) -> dict[str, str]:
        tags = {"mlflow.project.env": self.project_env, "mlproj.env.manager": self.manager}
        if self.key:
            tags["mlproj.env.key"] = self.key
        tags.update({f"mlproj.env.{name}": value for name, value in self.details.items()})
        tags.update(self.extra_tags)
        return tags


class PreparedEnv(Protocol):
    """A ready environment for one run (read-only members, so frozen dataclasses meet it)."""

    @property
    def facts(self) -> EnvFacts:
        """What was built or reused; recorded as run tags (facts.tags())."""
        ...

    @property
    def artifacts(self) -> Sequence[tuple[Path, str]]:
        """Files to save with the run: (local path, artifact directory), e.g. the lockfile."""
        ...

    def launch(self, request: LaunchRequest) -> Execution: ...


class EnvManager(Protocol):
    name: str

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        """What would be used, without building anything (for `run --dry-run`): JSON-able."""
        ...

    def prepare(self, project: Project, options: EnvOptions) -> PreparedEnv:
        """Build or reuse the environment (cached, locked, published atomically)."""
        ...
