"""MLFLOW_EXPERIMENT_NAME in a run's child environment.

MLflow passes the variable through to the entry point, and scripts read it (to name outputs, or
to call `mlflow.set_experiment` themselves). Passed through as it is, it could name another
experiment than the one the run is in (`--experiment-name` given as well), so the child gets the
name of the run's own experiment.
"""

from __future__ import annotations

from mlproj.errors import MlprojError
from mlproj.tracking.base import Store

VARIABLE = "MLFLOW_EXPERIMENT_NAME"


def experiment_name_env(env: dict[str, str], store: Store, experiment_id: str) -> dict[str, str]:
    """`env` with MLFLOW_EXPERIMENT_NAME (when set) naming the run's experiment."""
    if VARIABLE not in env:
        return env
    name = _name_of(store, experiment_id)
    if name is None:
        env.pop(VARIABLE)  # unknown: better absent than contradicting MLFLOW_EXPERIMENT_ID
    else:
        env[VARIABLE] = name
    return env


def _name_of(store: Store, experiment_id: str) -> str | None:
    try:
        experiments = store.list_experiments()
    except MlprojError:
        return None
    return next((e.name for e in experiments if e.experiment_id == experiment_id), None)
