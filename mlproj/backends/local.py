"""`-b local` (the default): the run executes in this process tree.

The run pipeline itself (mlproj/run/runner.py: env, launch, supervise, finalize) is the local
backend, so nothing is submitted: `mlproj run` executes the prepared run in place and `--detach`
forks a supervisor. This entry keeps `local` in the one backend table the CLI reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlproj.backends.base import PreparedRun, SubmittedRun
from mlproj.errors import RunError, UsageError
from mlproj.tracking.base import Run, Store


class LocalBackend:
    name = "local"
    runs_containers = False

    def check(self, config: Mapping[str, Any]) -> None:
        if config:
            raise UsageError(
                f"-c {next(iter(config))}=...: the local backend takes no backend config",
                "drop -c, or choose -b slurm / -b kubernetes",
            )

    def check_tracking(self, tracking_uri: str, config: Mapping[str, Any]) -> None:
        return None  # this host opened the store already

    def submit(self, prepared: PreparedRun) -> SubmittedRun:
        raise RunError("internal: local runs execute in mlproj.run.runner, not through submit")

    def node_finished(self, store: Store, run_id: str) -> None:
        return None

    def reconcile(self, store: Store, runs: Sequence[Run]) -> list[Run]:
        return list(runs)  # orphaned local runs are ended by the owner check of the tracking layer


BACKEND = LocalBackend()
