"""Where a prepared run executes: here (local), on a Slurm cluster, or on Kubernetes.

Backends are registered in one table, as env managers are (mlproj/envs/__init__.py); the CLI
takes its `-b/--backend` choices from it, so a new backend is one module defining `BACKEND`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from mlproj.errors import MlprojError, UsageError

if TYPE_CHECKING:  # the table is read by `mlproj run`'s options: it must import nothing heavy
    from collections.abc import Collection, Sequence

    from mlproj.backends.base import Backend
    from mlproj.tracking.base import Run, Store

BACKEND_TAG = "mlflow.project.backend"
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


# Backends `mlproj runs list` asks about the runs it shows: Slurm answers for all jobs in one
# squeue call; Kubernetes would need an API call per Job, from a client that may wait long on a
# cluster it cannot reach.
LISTED_BACKENDS = frozenset({"slurm"})


def reconcile(store: Store, run: Run) -> Run:
    """`runs show` / `runs wait`: the run, ended now if its job is gone (see reconcile_runs);
    as recorded when the engine cannot be asked."""
    try:
        return reconcile_runs(store, [run])[0]
    except MlprojError:  # the engine's tools are not here: show the run as recorded
        return run


def reconcile_runs(
    store: Store, runs: Sequence[Run], backends: Collection[str] = BACKENDS
) -> list[Run]:
    """Runs not ended yet (SCHEDULED or RUNNING) whose job their backend knows has gone (never
    started, node failure, killed before mlproj could react) are ended now; each backend in
    `backends` is asked once about all of its runs, and no backend module is imported unless one
    of `runs` is its. MlprojError when an engine cannot be asked."""
    from mlproj.tracking.base import TERMINAL_STATUSES

    positions: dict[str, list[int]] = {}
    for index, run in enumerate(runs):
        name = run.tags.get(BACKEND_TAG, "local")  # local runs: the owner check ends them
        if name != "local" and name in backends and run.info.status not in TERMINAL_STATUSES:
            positions.setdefault(name, []).append(index)
    result = list(runs)
    for name, indexes in positions.items():
        now = get_backend(name).reconcile(store, [runs[i] for i in indexes])
        for index, run in zip(indexes, now, strict=True):
            result[index] = run
    return result
