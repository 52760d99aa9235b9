"""`mlproj describe`: a project as plain data (the JSON that `describe --json` prints)."""

from __future__ import annotations

import datetime
from typing import Any

from mlproj.spec.model import EntryPoint, EnvDecl, Project


def describe_project(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "env": describe_env(project.env),
        "entry_points": {name: _entry_point(ep) for name, ep in project.entry_points.items()},
    }


def describe_env(env: EnvDecl) -> dict[str, Any]:
    result: dict[str, Any] = {"type": env.kind}
    if env.file is not None:
        result["file"] = str(env.file)
    if env.docker is not None:
        result["image"] = env.docker.image
        result["volumes"] = list(env.docker.volumes)
        result["environment"] = [[k, v] if v is not None else k for k, v in env.docker.environment]
        result["gpus"] = env.docker.gpus
    return result


def _entry_point(ep: EntryPoint) -> dict[str, Any]:
    result: dict[str, Any] = {
        "command": ep.command,
        "parameters": {
            p.name: {"type": p.type, "default": _json_value(p.default)} for p in ep.parameters
        },
    }
    if ep.error:
        result["error"] = ep.error
    return result


def _json_value(value: object) -> Any:
    """YAML values as JSON can hold them (dates and bytes become text)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)
