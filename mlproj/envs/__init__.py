"""Environment managers, registered in one table that also feeds `--env-manager`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mlproj.errors import EnvError

if TYPE_CHECKING:  # the table is read by `mlproj run`'s options: it must import nothing heavy
    from mlproj.envs.base import EnvManager
    from mlproj.spec.model import Project

# manager name -> module defining `MANAGER` (an EnvManager). "uv" is MLflow's alias of virtualenv.
MANAGERS: dict[str, str] = {
    "local": "mlproj.envs.local",
    "virtualenv": "mlproj.envs.virtualenv.manager",
    "uv": "mlproj.envs.virtualenv.manager",
    "conda": "mlproj.envs.conda.manager",
    "docker": "mlproj.envs.docker.manager",
}

_DEFAULT_FOR_KIND = {"conda": "conda", "python": "virtualenv", "docker": "docker", "local": "local"}


def select_manager(project: Project, requested: str | None) -> str:
    """The manager to use: the project's own choice unless the user asked for another one."""
    kind = project.env.kind
    if kind == "docker":
        if requested not in (None, "docker"):
            raise EnvError(
                f"--env-manager {requested} cannot run a docker_env project",
                "drop --env-manager, or remove docker_env from the MLproject",
            )
        return "docker"
    if requested is None:
        return _DEFAULT_FOR_KIND[kind]
    if requested not in MANAGERS:
        raise EnvError(f"unknown environment manager {requested!r}", f"use one of {list(MANAGERS)}")
    if requested == "docker":
        raise EnvError("--env-manager docker needs a docker_env section in the MLproject")
    if requested == "conda" and kind != "conda":
        raise EnvError(
            f"a {kind} project cannot be run with --env-manager conda",
            "use --env-manager virtualenv or local",
        )
    return "virtualenv" if requested == "uv" else requested


def get_manager(name: str) -> EnvManager:
    module = importlib.import_module(MANAGERS[name])
    manager: EnvManager = module.MANAGER
    return manager
