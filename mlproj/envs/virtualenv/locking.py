"""Write `python_env.lock.txt` for a project: its requirements pinned, with hashes (`mlproj pack`).

This is the one place a virtualenv lock is solved; runs only ever install it (lock.py).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlproj.envs.virtualenv.lock import compile_lock, header, lock_path
from mlproj.envs.virtualenv.manager import resolve, uv_env
from mlproj.envs.virtualenv.requirements import rewrite
from mlproj.spec.model import Project


def write_project_lock(project: Project) -> Path:
    """Resolve the project's python_env with uv and write the pins beside it."""
    plan = resolve(project, {"ignore_project_lock": True})
    req = plan.request
    lines = rewrite([*req.build_dependencies, *req.dependencies], req.project_dir)
    with tempfile.TemporaryDirectory(prefix="mlproj-venv-lock-") as scratch:
        requirements = Path(scratch) / "requirements.in"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        pins = ""
        if any(line.strip() for line in lines):
            pins = compile_lock(
                plan.uv, requirements, plan.interpreter.version, uv_env(plan), plan.index.args
            )
    path = lock_path(req.env_file, req.project_dir)
    path.write_text(header(req.env_file, plan.interpreter.version) + pins, encoding="utf-8")
    return path
