"""The local manager: run in the caller's own environment, nothing to build."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlproj import proc
from mlproj._util.record import Record
from mlproj.envs.base import EnvFacts, EnvOptions, EnvPatch
from mlproj.proc import Execution, LaunchRequest
from mlproj.spec.model import Project


class PatchedEnv(Record):
    """A prepared environment that runs commands locally with an EnvPatch applied."""

    patch: EnvPatch
    facts: EnvFacts
    artifacts: Sequence[tuple[Path, str]] = ()

    def launch(self, request: LaunchRequest) -> Execution:
        env = self.patch.apply(request.env)
        return proc.launch_shell(LaunchRequest(request.command, request.cwd, env, request.sink))


FACTS = EnvFacts(manager="local", project_env="local")


class LocalManager:
    name = "local"

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        return {"manager": "local", "note": "runs in the current environment; nothing is built"}

    def prepare(self, project: Project, options: EnvOptions) -> PatchedEnv:
        return PatchedEnv(EnvPatch(), FACTS)


MANAGER = LocalManager()
