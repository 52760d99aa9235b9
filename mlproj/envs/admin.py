"""What `mlproj env` does: build a project's env ahead of time, and show the cache."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from mlproj.envs.cache import CachedEnv
from mlproj.errors import UsageError
from mlproj.output import human_size

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def parse_age(text: str) -> float:
    """`90s`, `15m`, `12h`, `30d`, `2w` (a bare number is seconds) -> seconds."""
    match = _AGE.match(text)
    if match is None:
        raise UsageError(
            f"--older-than {text!r} is not a duration",
            "write a number with s, m, h, d or w, e.g. 30d",
        )
    return float(match.group(1)) * _UNIT[match.group(2)]


def create(path: Path, requested: str | None) -> dict[str, Any]:
    """Build (or reuse) the env a run of the project at `path` would use; what was built."""
    from mlproj.envs import get_manager, select_manager
    from mlproj.envs.base import EnvOptions
    from mlproj.spec.mlproject import load_project

    project = load_project(path)
    name = select_manager(project, requested)
    manager = get_manager(name)
    options = EnvOptions(manager=name)
    prepared = manager.prepare(project, options)
    facts = prepared.facts
    result: dict[str, Any] = {"manager": name, "project": str(project.directory)}
    if facts.key:
        result["key"] = facts.key
    result.update(facts.details)
    if facts.key:
        from mlproj.envs.cache import env_path

        result["path"] = str(env_path(facts.key))
    return result


def env_record(env: CachedEnv) -> dict[str, Any]:
    """JSON form of one cached env (`mlproj env list --json`)."""
    return {
        "key": env.key,
        "manager": env.manager,
        "path": str(env.path),
        "size_bytes": env.size_bytes,
        "created": _iso(env.created),
        "last_used": _iso(env.last_used),
        "meta": dict(env.meta),
    }


def table(envs: list[CachedEnv]) -> list[str]:
    """Rows for `mlproj env list`: key, manager, size, last used, path."""
    rows = [("KEY", "MANAGER", "SIZE", "LAST USED", "PATH")]
    for env in sorted(envs, key=lambda e: e.last_used, reverse=True):
        rows.append(
            (
                env.key[:12],
                env.manager,
                human_size(env.size_bytes),
                _ago(env.last_used),
                str(env.path),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:4], widths, strict=True)), row[4]])
        for row in rows
    ]


def _iso(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).isoformat(
        timespec="seconds"
    )


def _ago(stamp: float) -> str:
    seconds = max(0.0, datetime.datetime.now().timestamp() - stamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"
