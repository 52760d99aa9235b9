"""Move a file store (mlruns/) into a SQLite store with MLflow's own migration, then prove it.

MLflow 3 keeps the file store in maintenance mode and ships `mlflow migrate-filestore`
(mlflow.store.fs2db). That code is used as it is; afterwards every run of the source is read
back from the target and compared (status, times, params, tags, metrics), so a migration that
lost anything fails loudly instead of leaving a user with a partial database.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path

from mlproj._util.uri import scheme_of
from mlproj.errors import TrackingError
from mlproj.tracking import open_store
from mlproj.tracking.base import Run, Store


@dataclass(frozen=True)
class Migrated:
    experiments: int
    runs: int


def migrate_file_store(source_uri: str, target_uri: str) -> Migrated:
    """Copy the file store at `source_uri` (absolute file: URI) into a new SQLite database."""
    if scheme_of(source_uri) not in (None, "file"):
        raise TrackingError(
            f"only a file store (an mlruns directory) can be migrated, not {source_uri!r}",
            "pass --from ./mlruns",
        )
    if scheme_of(target_uri) != "sqlite":
        raise TrackingError(
            f"MLflow migrates a file store into SQLite only, not {target_uri!r}",
            "use --to sqlite:///mlflow.db",
        )
    mlruns = Path(source_uri.removeprefix("file://"))
    if not mlruns.is_dir():
        raise TrackingError(f"no file store at {mlruns}", "pass the mlruns directory with --from")
    db = Path(target_uri.removeprefix("sqlite:///"))
    if db.exists():
        raise TrackingError(
            f"{db} exists already; the migration writes a new database",
            "move it away, or choose another --to",
        )
    try:
        from mlflow.store.fs2db import migrate
    except ImportError:
        raise TrackingError(
            "migrating uses MLflow's own migration (`mlflow migrate-filestore`, mlflow 3.13 "
            "and later), which is not installed",
            "pip install 'mlproj[mlflow]' 'mlflow>=3.13'",
        ) from None
    try:
        with contextlib.redirect_stdout(sys.stderr):  # MLflow prints its summary table
            migrate(_source_root(mlruns), f"sqlite:///{db}", progress=False)
    except Exception as exc:  # MLflow's errors: report the first line, keep no half database
        db.unlink(missing_ok=True)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise TrackingError(f"MLflow's migration of {mlruns} failed: {first}") from None
    return verify(open_store(source_uri), open_store(f"sqlite:///{db}"))


def _source_root(mlruns: Path) -> Path:
    """MLflow's migration takes the directory that holds `mlruns/`, or mlruns itself."""
    return mlruns.parent if mlruns.name == "mlruns" else mlruns


def verify(source: Store, target: Store) -> Migrated:
    """Every run of `source` read back from `target`, field by field; raises on a difference."""
    experiments = [e for e in source.list_experiments() if e.lifecycle_stage == "active"]
    count = 0
    for experiment in experiments:
        for run in source.search_runs([experiment.experiment_id]):
            try:
                copy = target.get_run(run.info.run_id)
            except TrackingError:
                raise TrackingError(
                    f"run {run.info.run_id} is missing after the migration"
                ) from None
            difference = _difference(run, copy)
            if difference:
                raise TrackingError(
                    f"run {run.info.run_id} differs after the migration: {difference}"
                )
            count += 1
    return Migrated(len(experiments), count)


def _difference(run: Run, copy: Run) -> str | None:
    a, b = run.info, copy.info
    for name in ("status", "start_time", "end_time", "experiment_id", "run_name"):
        if getattr(a, name) != getattr(b, name):
            return f"{name} {getattr(a, name)!r} != {getattr(b, name)!r}"
    if dict(run.params) != dict(copy.params):
        return "params differ"
    if {k: repr(v) for k, v in run.metrics.items()} != {
        k: repr(v) for k, v in copy.metrics.items()
    }:
        return "metrics differ"  # repr: NaN equals NaN
    missing = {k for k in run.tags if k not in copy.tags or copy.tags[k] != run.tags[k]}
    return f"tags {sorted(missing)} differ" if missing else None
