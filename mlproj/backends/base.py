"""The interface between the run pipeline and the place a run executes.

The pipeline (mlproj/run) validates the project and creates the run on the submitting host, then
hands a `PreparedRun` to a backend. The backend returns a `SubmittedRun` handle at once (the
shape of MLflow's SubmittedRun: run_id, wait, get_status, cancel) plus the engine's job id.
Remote backends run `mlproj _exec-run` on the node (see `NodeStep`), so the run always ends with
a final status there, even when the submitter is gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mlproj.tracking.base import Run, Store


@dataclass(frozen=True)
class NodeStep:
    """What `mlproj _exec-run` needs to run an existing run on another host (JSON-able)."""

    uri: str  # a path the node can read, or a URL it can fetch
    version: str | None  # the exact commit for git sources
    entry_point: str
    params: Mapping[str, str]
    env_manager: str | None
    env_options: Mapping[str, Any]  # EnvOptions fields
    tracking_uri: str
    run_id: str
    backend: str
    grace: float = 3.0  # must fit in the engine's kill wait (Slurm: KillWait)
    storage_dir: str | None = None


@dataclass(frozen=True)
class PreparedRun:
    """A validated project and a created run, ready to be submitted."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    artifact_uri: str
    project_name: str
    project_dir: str  # the fetched project on the submitting host
    command: str  # the entry point's shell command, parameters substituted
    env_kind: str  # conda / python / docker / local
    docker_image: str | None  # docker_env's image, for backends that run containers
    node_step: NodeStep
    config: Mapping[str, Any]  # the parsed -c/--backend-config
    store: Store
    image: str | None = None  # container backends: the prepared docker_env image (tag)
    image_shell: str = "sh"  # the shell that image has (bash or sh)


class SubmittedRun(Protocol):
    """A run handed to a backend (MLflow's SubmittedRun, plus the engine's job id)."""

    @property
    def run_id(self) -> str: ...

    @property
    def job_id(self) -> str | None: ...

    def wait(self) -> bool:
        """Follow the run (streaming its output) until it ends; True when it FINISHED.
        Ctrl-C while waiting cancels the job and ends the run KILLED."""
        ...

    def get_status(self) -> str:
        """RUNNING / SCHEDULED / FINISHED / FAILED / KILLED, from the engine and the store."""
        ...

    def cancel(self) -> None:
        """Stop the job; the run ends KILLED."""
        ...


class Backend(Protocol):
    name: str
    runs_containers: bool  # True: the submitter prepares the docker_env image first

    def check(self, config: Mapping[str, Any]) -> None:
        """Refuse a bad backend config before any run is created (MlprojError)."""
        ...

    def check_tracking(self, tracking_uri: str, config: Mapping[str, Any]) -> None:
        """Refuse a tracking store the job could not reach, before any run is created."""
        ...

    def submit(self, prepared: PreparedRun) -> SubmittedRun: ...

    def node_finished(self, store: Store, run_id: str) -> None:
        """Called on the node by `_exec-run` after the run ended: record engine facts (e.g.
        Slurm's reason for a kill) as tags."""
        ...

    def reconcile(self, store: Store, runs: Sequence[Run]) -> list[Run]:
        """Runs this backend submitted, not ended yet (SCHEDULED or RUNNING): ask the engine
        whether their jobs are gone (never started, node failure), once for all of them where
        the engine allows; end those runs and return `runs` as they are now, in order.
        MlprojError when the engine cannot be asked."""
        ...
