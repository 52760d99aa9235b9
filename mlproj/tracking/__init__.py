"""Tracking stores: pick one from a URI.

    file store  no scheme, `file:`        mlproj/tracking/file.py (MLflow's mlruns layout)
    REST        `http:`, `https:`         mlproj/tracking/rest.py (an MLflow tracking server)
    database    `sqlite:`, `postgresql:`  mlproj/tracking/mlflow_db.py (needs the mlflow package)

Only the file store is imported eagerly; requests and mlflow are imported by the store that
needs them, so `mlproj --help` and the default path stay fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlproj._util.uri import scheme_of
from mlproj.errors import TrackingError
from mlproj.tracking.base import RunInfo, Store

DEFAULT_TRACKING_URI = "./mlruns"
_DB_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "mysql", "mssql", "oracle"})


def _absolute_file_uri(path: str) -> str:
    return Path(os.path.expanduser(path)).resolve().as_uri()


MLFLOW_DB = "mlflow.db"  # MLflow 3's default store, in the working directory


def default_tracking_uri() -> str:
    """`./mlruns`, unless `./mlflow.db` (MLflow 3's default) is here: runs go beside the ones
    MLflow wrote rather than into a second store. It is read through the mlflow package."""
    if not os.path.isfile(MLFLOW_DB):
        return DEFAULT_TRACKING_URI
    import importlib.util

    if importlib.util.find_spec("mlflow") is None:
        raise TrackingError(
            f"./{MLFLOW_DB} (MLflow's default store) is in this directory, and reading it "
            "needs the mlflow package",
            "pip install 'mlproj[mlflow]', or pass --tracking-uri ./mlruns to use a file store",
        )
    return f"sqlite:///{MLFLOW_DB}"


def resolve_tracking_uri(cli_uri: str | None) -> str:
    """The tracking URI to use, always absolute: `--tracking-uri` beats `MLFLOW_TRACKING_URI`,
    which beats `./mlflow.db` when it exists, which beats the default `./mlruns` file store.

    Relative paths become `file:///abs/path` and a relative `sqlite:///x.db` becomes
    `sqlite:////abs/x.db`, so a child process in another directory logs to the same store.
    """
    uri = cli_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    scheme = scheme_of(uri)
    if scheme is None:
        return _absolute_file_uri(uri)
    if scheme == "file":
        rest = uri[len("file:") :]
        if rest.startswith("//"):
            return uri  # file:///abs or file://host/abs
        return _absolute_file_uri(rest)  # file:relative/path
    if scheme == "sqlite":
        head, rest = uri[: len("sqlite:///")], uri[len("sqlite:///") :]
        relative = rest and not rest.startswith("/") and rest != ":memory:"
        if head.lower() == "sqlite:///" and relative:
            return "sqlite:///" + str(Path(rest).expanduser().resolve())
    return uri


def open_store(uri: str) -> Store:
    """The store for an (absolute) tracking URI, chosen by its scheme."""
    scheme = scheme_of(uri)
    if scheme in (None, "file"):
        from mlproj.tracking.stores.file import FileStore

        return FileStore(uri if scheme else _absolute_file_uri(uri))
    if scheme in ("http", "https"):
        from mlproj.tracking.stores.rest import RestStore

        return RestStore(uri)
    if scheme is not None and scheme.split("+")[0] in _DB_SCHEMES:
        from mlproj.tracking.stores.mlflow_db import MlflowDbStore

        return MlflowDbStore(uri)
    raise TrackingError(
        f"unsupported tracking URI {uri!r}",
        hint="use a path or file: URI, an http(s):// MLflow server, or a database URI "
        "(sqlite:, postgresql:, mysql:)",
    )


def run_child_env(store: Store, info: RunInfo) -> dict[str, str]:
    """What a run's child process needs so that `mlflow.start_run()` resumes this run."""
    return {
        **store.child_env(),
        "MLFLOW_RUN_ID": info.run_id,
        "MLFLOW_EXPERIMENT_ID": info.experiment_id,
    }


__all__ = [
    "DEFAULT_TRACKING_URI",
    "open_store",
    "resolve_tracking_uri",
    "run_child_env",
]
