"""Where a run's artifacts will be, before the run exists (for `--dry-run -b slurm`, whose job
script names the run's artifact directory): read from the store, never written to it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from mlproj._util.uri import scheme_of
from mlproj.errors import MlprojError
from mlproj.tracking.base import Experiment, Store

NEW_EXPERIMENT_ID = "<experiment-id>"


@dataclass(frozen=True)
class PlannedArtifacts:
    uri: str | None  # the run's artifact URI; None when only creating the run would tell
    new_experiment: bool = False  # the URI holds NEW_EXPERIMENT_ID: creating the run creates it
    why_unknown: str = ""


def planned_artifact_uri(
    tracking_uri: str,
    experiment_name: str | None,
    experiment_id: str | None,
    run_id: str,
    existing_run: str | None = None,
) -> PlannedArtifacts:
    """The artifact URI the run `run_id` (a placeholder when the run is not created yet; a
    real id with `existing_run`, --run-id) gets in the experiment chosen as `run` would choose
    it. The file store is read; a server is asked once, quickly; a database is not opened (the
    mlflow package would create its schema)."""
    scheme = scheme_of(tracking_uri)
    if scheme not in (None, "file", "http", "https"):
        return PlannedArtifacts(None, why_unknown="the database store decides it")
    try:
        store = _reader(tracking_uri)
        if existing_run is not None:
            return PlannedArtifacts(store.get_run(existing_run).info.artifact_uri)
        known = store.list_experiments()
    except MlprojError as exc:
        return PlannedArtifacts(None, why_unknown=f"the store did not say ({exc.message})")
    found = _chosen(known, experiment_name, experiment_id)
    if found is None and experiment_id is not None:
        return PlannedArtifacts(None, why_unknown=f"the store has no experiment {experiment_id}")
    if scheme in ("http", "https"):
        if found is None:  # the server picks a new experiment's artifact location
            return PlannedArtifacts(None, why_unknown="the server decides it for a new experiment")
        location = found.artifact_location.rstrip("/")
        return PlannedArtifacts(f"{location}/{quote(run_id)}/artifacts")
    # mlproj's file store: <root>/<experiment id>/<run id>/artifacts (tracking/stores/file.py)
    from mlproj.tracking.stores.file import DEFAULT_EXPERIMENT_ID, FileStore

    assert isinstance(store, FileStore)
    if found is not None:
        exp_id, new = found.experiment_id, False
    elif experiment_name is None:
        exp_id, new = DEFAULT_EXPERIMENT_ID, False  # created with the store, as MLflow does
    else:
        exp_id, new = NEW_EXPERIMENT_ID, True
    return PlannedArtifacts(
        f"{Path(store.root).as_uri()}/{quote(exp_id)}/{quote(run_id)}/artifacts", new
    )


def _reader(tracking_uri: str) -> Store:
    from mlproj.tracking import open_store

    if scheme_of(tracking_uri) in ("http", "https"):
        from mlproj.tracking.stores.rest import RestStore
        from mlproj.tracking.stores.rest_http import Retry

        return RestStore(tracking_uri, retry=Retry(attempts=1))  # a dry run does not wait
    return open_store(tracking_uri)


def _chosen(
    known: list[Experiment], name: str | None, experiment_id: str | None
) -> Experiment | None:
    if experiment_id is None and name is None:
        experiment_id = "0"  # the Default experiment, as `run` picks it
    if experiment_id is not None:
        return next((e for e in known if e.experiment_id == experiment_id), None)
    return next((e for e in known if e.name == name), None)
