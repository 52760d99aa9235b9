"""Where a run's output is kept among its artifacts: written by the runner's log sink, read by
`mlproj runs logs`."""

from __future__ import annotations

from typing import Literal

LogStream = Literal["stdout", "stderr"]

LOG_ARTIFACT_DIR = "logs"
LOG_FILE_NAMES: dict[LogStream, str] = {"stdout": "stdout.txt", "stderr": "stderr.txt"}


def log_artifact(stream: LogStream) -> str:
    """The artifact path of one stream's log, e.g. `logs/stdout.txt`."""
    return f"{LOG_ARTIFACT_DIR}/{LOG_FILE_NAMES[stream]}"
