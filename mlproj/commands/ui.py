"""`mlproj ui`: MLflow's UI on the store mlproj records into.

MLflow 3.13+ refuses a file store unless MLFLOW_ALLOW_FILE_STORE=true; users should not need to
know that, so it is set here. The UI is MLflow's own (`mlflow ui`), started in place of this
process so that Ctrl-C and exit codes are its own.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import click

from mlproj.errors import TrackingError


@click.command()
@click.option("--port", type=int, default=5000, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--tracking-uri",
    metavar="URI",
    help="Store to show [default: $MLFLOW_TRACKING_URI, ./mlflow.db if present, ./mlruns].",
)
def command(port: int, host: str, tracking_uri: str | None) -> None:
    """Start MLflow's UI on mlproj's tracking store."""
    from mlproj import output
    from mlproj._util.uri import scheme_of
    from mlproj.tracking import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    if scheme_of(uri) in ("http", "https"):
        output.note(f"{uri} is an MLflow server: its UI is at that address")
        return
    if importlib.util.find_spec("mlflow") is None:
        raise TrackingError(
            "`mlproj ui` starts MLflow's UI, and the mlflow package is not installed",
            "pip install 'mlproj[mlflow]'",
        )
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri]
    argv += ["--host", host, "--port", str(port)]
    env = dict(os.environ, MLFLOW_ALLOW_FILE_STORE="true")
    output.note(f"MLflow UI for {uri} on http://{host}:{port}")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)
