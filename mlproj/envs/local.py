"""The local manager: run in the caller's own environment, nothing to build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlproj import proc
from mlproj.envs.base import EnvOptions, EnvPatch
from mlproj.proc import Execution, LaunchRequest
from mlproj.spec.model import Project


@dataclass(frozen=True)
class PatchedEnv:
    """A prepared environment that runs commands locally with an EnvPatch applied."""

    patch: EnvPatch
    tags: Mapping[str, str] = field(default_factory=dict)
    artifacts: Sequence[tuple[Path, str]] = ()

    def launch(self, request: LaunchRequest) -> Execution:
        env = self.patch.apply(request.env)
        return proc.launch_shell(LaunchRequest(request.command, request.cwd, env, request.sink))


TAGS = {"mlflow.project.env": "local", "mlproj.env.manager": "local"}


class LocalManager:
    name = "local"

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        return {"manager": "local", "note": "runs in the current environment; nothing is built"}

    def prepare(self, project: Project, options: EnvOptions) -> PatchedEnv:
        return PatchedEnv(EnvPatch(), tags=TAGS)


MANAGER = LocalManager()
