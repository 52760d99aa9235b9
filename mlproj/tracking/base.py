"""What the runner needs from a tracking store. Implementations: file.py, rest.py, mlflow_db.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

from mlproj._util.record import Record, field

RunStatus = Literal["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
TERMINAL_STATUSES: frozenset[RunStatus] = frozenset({"FINISHED", "FAILED", "KILLED"})


class Metric(Record):
    key: str
    value: float
    timestamp: int  # ms since the epoch
    step: int


class RunInfo(Record):
    run_id: str
    experiment_id: str
    run_name: str
    status: str  # a RunStatus, or whatever another tool wrote into the store
    start_time: int | None  # ms
    end_time: int | None  # ms
    artifact_uri: str
    user_id: str = ""


class Experiment(Record):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = "active"


class Run(Record):
    info: RunInfo
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    # the latest value of each metric
    metrics: Mapping[str, float] = field(default_factory=dict)


class Store(Protocol):
    """A tracking store, addressed by `uri` (absolute)."""

    uri: str

    def resolve_experiment(self, name: str | None, experiment_id: str | None) -> str:
        """Return the experiment id: by id (must exist), by name (created if missing), else "0"."""
        ...

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Mapping[str, str],
        run_name: str | None,
    ) -> RunInfo:
        """Create a RUNNING run. A generated `adjective-animal-NNN` name when run_name is None."""
        ...

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None: ...

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None: ...

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str = "") -> None:
        """Copy a file into the run's artifacts, under `artifact_path` (a relative dir)."""
        ...

    def get_run(self, run_id: str) -> Run: ...

    def set_terminated(self, run_id: str, status: RunStatus, end_time: int) -> None: ...

    def set_status(self, run_id: str, status: RunStatus) -> None:
        """SCHEDULED or RUNNING (a run queued by a cluster, then started); no end time."""
        ...

    def search_runs(self, experiment_ids: Sequence[str]) -> list[Run]: ...

    def metric_history(self, run_id: str, key: str) -> list[Metric]: ...

    def child_env(self) -> dict[str, str]:
        """Variables a child process needs to log into this store (absolute MLFLOW_TRACKING_URI,
        MLFLOW_ALLOW_FILE_STORE=true for the file store, credentials for REST)."""
        ...

    # Added for `mlproj runs` and the runner's log capture.

    def list_experiments(self) -> list[Experiment]:
        """Active experiments; an empty list when the store holds nothing yet."""
        ...

    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None: ...

    def write_artifact(self, run_id: str, artifact_file: str, data: bytes) -> None:
        """Store `data` as the artifact `artifact_file` (a relative path, e.g. logs/stdout.txt)."""
        ...

    def read_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes of one artifact file; TrackingError when it does not exist."""
        ...

    def list_artifacts(self, run_id: str, path: str = "") -> list[str]:
        """Relative paths of every artifact file under `path`, recursively, sorted."""
        ...
