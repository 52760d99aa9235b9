"""How a user names a recorded run: an id (or prefix), `runs:/ID`, an MLflow UI run URL
(`http(s)://host/#/experiments/E/runs/ID`, whose store is the server itself) or
`STORE_URI#RUN_ID` (a run of another store)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlproj.errors import UsageError

_UI_URL = re.compile(r"^(https?://[^#]+?)/?#/experiments/[^/]+/runs/([0-9a-fA-F]+)(?:[/?].*)?$")
_RUNS_URI = re.compile(r"^runs:/+([0-9a-fA-F]+)(?:/.*)?$")


@dataclass(frozen=True)
class RunRef:
    run: str  # full id or prefix
    tracking_uri: str | None  # None: --tracking-uri / $MLFLOW_TRACKING_URI / ./mlruns


def looks_like_run_reference(text: str) -> bool:
    return bool(_RUNS_URI.match(text) or _UI_URL.match(text))


def parse_run_ref(
    text: str, tracking_uri: str | None = None, *, allow_store: bool = False
) -> RunRef:
    """The run and the store it lives in; a store in `text` beats `tracking_uri`."""
    text = text.strip()
    ui = _UI_URL.match(text)
    if ui:
        return RunRef(ui.group(2), ui.group(1))
    runs = _RUNS_URI.match(text)
    if runs:
        return RunRef(runs.group(1), tracking_uri)
    if "#" in text:
        store, _, run = text.rpartition("#")
        if not allow_store:
            raise UsageError(
                f"{text!r}: give the run's store with --tracking-uri", "and the run id alone"
            )
        if not store or not re.fullmatch(r"[0-9a-fA-F]+", run):
            raise UsageError(f"{text!r} is not STORE_URI#RUN_ID", "e.g. ./mlruns#3f2a9c")
        return RunRef(run, store)
    if not re.fullmatch(r"[0-9a-zA-Z]+", text):
        raise UsageError(
            f"{text!r} is not a run id",
            "give a run id (or a prefix), runs:/ID or an MLflow UI run URL",
        )
    return RunRef(text, tracking_uri)
