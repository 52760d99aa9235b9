"""Where a prepared run executes: here (local), on a Slurm cluster, or on Kubernetes.

Backends are registered in one table, as env managers are (mlproj/envs/__init__.py); the CLI
takes its `-b/--backend` choices from it, so a new backend is one module defining `BACKEND`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mlproj.errors import MlprojError, UsageError

if TYPE_CHECKING:  # the table is read by `mlproj run`'s options: it must import nothing heavy
    from mlproj.backends.base import Backend
    from mlproj.tracking.base import Run, Store

# backend name -> module defining `BACKEND` (a Backend)
BACKENDS: dict[str, str] = {
    "local": "mlproj.backends.local",
    "slurm": "mlproj.backends.slurm.backend",
    "kubernetes": "mlproj.backends.kubernetes.backend",
}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise UsageError(f"unknown backend {name!r}", f"use one of {sorted(BACKENDS)}")
    module = importlib.import_module(BACKENDS[name])
    backend: Backend = module.BACKEND
    return backend


def reconcile(store: Store, run: Run) -> Run:
    """A run not ended yet (SCHEDULED or RUNNING) whose job its backend knows has gone (never
    started, node failure, killed before mlproj could react) is ended now; used by `runs show`
    / `runs wait`."""
    from mlproj.tracking.base import TERMINAL_STATUSES

    name = run.tags.get("mlflow.project.backend", "local")
    if name == "local" or name not in BACKENDS or run.info.status in TERMINAL_STATUSES:
        return run
    try:
        return get_backend(name).reconcile(store, run)
    except MlprojError:  # the engine's tools are not here: show the run as recorded
        return run
