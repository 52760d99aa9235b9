"""Database tracking stores (sqlite:, postgresql:, mysql: ...) through the `mlflow` package.

MLflow's SQL schema is managed by Alembic and not safe to write directly (reference 9.3), so
these URIs go through `mlflow.tracking.MlflowClient`. mlflow is an optional extra
(`pip install 'mlproj[mlflow]'`), imported only when such a URI is used.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlproj.errors import TrackingError, UsageError
from mlproj.tracking.base import TERMINAL_STATUSES, Experiment, Metric, Run, RunInfo, RunStatus
from mlproj.tracking.stores import local_artifacts
from mlproj.tracking.stores.order import in_id_order

_BATCH = 100
_PAGE = 1000


def _client(uri: str) -> Any:
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise TrackingError(
            f"the tracking URI {uri!r} needs the mlflow package",
            hint="pip install 'mlproj[mlflow]', or point MLFLOW_TRACKING_URI at an MLflow "
            "server (http://...) or an mlruns directory",
        ) from None
    return MlflowClient(tracking_uri=uri)


def _error(exc: Exception) -> TrackingError:
    message = getattr(exc, "message", None) or str(exc)
    return TrackingError(str(message).splitlines()[0] if message else type(exc).__name__)


def _convert(run: Any) -> Run:
    info = run.info
    return Run(
        info=RunInfo(
            run_id=info.run_id,
            experiment_id=str(info.experiment_id),
            run_name=info.run_name or "",
            status=info.status,
            start_time=info.start_time,
            end_time=info.end_time,
            artifact_uri=info.artifact_uri or "",
            user_id=info.user_id or "",
        ),
        params=dict(run.data.params),
        tags=dict(run.data.tags),
        metrics=dict(run.data.metrics),
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class MlflowDbStore:
    """A store behind MlflowClient (SQLAlchemy backends)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._mlflow = _client(uri)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an MlflowClient method; its exceptions become one-line TrackingErrors."""
        from mlflow.exceptions import MlflowException

        try:
            return getattr(self._mlflow, method)(*args, **kwargs)
        except MlflowException as exc:
            raise _error(exc) from exc

    def resolve_experiment(self, name: str | None, experiment_id: str | None) -> str:
        if name is not None and experiment_id is not None:
            raise UsageError("give either an experiment name or an experiment id, not both")
        if experiment_id is not None:
            exp = self._call("get_experiment", experiment_id)
        elif name is not None:
            exp = self._call("get_experiment_by_name", name)
            if exp is None:
                return str(self._call("create_experiment", name))
        else:
            return "0"
        if exp.lifecycle_stage != "active":
            raise TrackingError(f"experiment {exp.name!r} is deleted in {self.uri}")
        return str(exp.experiment_id)

    def list_experiments(self) -> list[Experiment]:
        found = [
            Experiment(str(e.experiment_id), e.name, e.artifact_location, e.lifecycle_stage)
            for e in self._call("search_experiments", max_results=50000)
        ]
        return in_id_order(found)

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Mapping[str, str],
        run_name: str | None,
    ) -> RunInfo:
        # MlflowClient takes the run's user_id from the mlflow.user tag.
        all_tags = {"mlflow.user": user_id, **tags}
        run = self._call(
            "create_run", experiment_id, start_time=start_time, tags=all_tags, run_name=run_name
        )
        return _convert(run).info

    def _log_batch(self, run_id: str, **lists: Any) -> None:
        self._call("log_batch", run_id, synchronous=True, **lists)

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        from mlflow.entities import Param

        for chunk in _chunks([Param(k, v) for k, v in params.items()], _BATCH):
            self._log_batch(run_id, params=chunk)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        for chunk in _chunks([RunTag(k, v) for k, v in tags.items()], _BATCH):
            self._log_batch(run_id, tags=chunk)

    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        from mlflow.entities import Metric as MlflowMetric

        points = [MlflowMetric(m.key, m.value, m.timestamp, m.step) for m in metrics]
        for chunk in _chunks(points, 1000):
            self._log_batch(run_id, metrics=chunk)

    def set_terminated(self, run_id: str, status: RunStatus, end_time: int) -> None:
        if status not in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} is not a terminal run status")
        self._call("set_terminated", run_id, status=status, end_time=end_time)

    def set_status(self, run_id: str, status: RunStatus) -> None:
        if status in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} ends a run: use set_terminated")
        self._call("update_run", run_id, status=status)

    def get_run(self, run_id: str) -> Run:
        return _convert(self._call("get_run", run_id))

    def search_runs(self, experiment_ids: Sequence[str]) -> list[Run]:
        runs: list[Run] = []
        token = None
        while True:
            page = self._call(
                "search_runs", list(experiment_ids), max_results=_PAGE, page_token=token
            )
            runs.extend(_convert(r) for r in page)
            token = page.token
            if not token:
                return runs

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        return [
            Metric(m.key, m.value, m.timestamp, m.step)
            for m in self._call("get_metric_history", run_id, key)
        ]

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str = "") -> None:
        if not Path(local_path).is_file():
            raise TrackingError(f"cannot log artifact {local_path}: file not found")
        path = local_artifacts.clean_path(artifact_path) or None
        self._call("log_artifact", run_id, str(local_path), path)

    def write_artifact(self, run_id: str, artifact_file: str, data: bytes) -> None:
        rel = local_artifacts.clean_path(artifact_file)
        if not rel:
            raise TrackingError("an artifact needs a file name")
        with tempfile.TemporaryDirectory(prefix="mlproj-artifact-") as tmp:
            local = Path(tmp, Path(rel).name)
            local.write_bytes(data)
            self.log_artifact(run_id, local, str(Path(rel).parent))

    def read_artifact(self, run_id: str, path: str) -> bytes:
        rel = local_artifacts.clean_path(path)
        if rel not in self.list_artifacts(run_id, str(Path(rel).parent)):
            raise TrackingError(f"run {run_id} has no artifact {path!r}")
        with tempfile.TemporaryDirectory(prefix="mlproj-artifact-") as tmp:
            local = self._call("download_artifacts", run_id, rel, tmp)
            return Path(local).read_bytes()

    def list_artifacts(self, run_id: str, path: str = "") -> list[str]:
        found: list[str] = []
        pending = [local_artifacts.clean_path(path)]
        while pending:
            rel = pending.pop()
            for item in self._call("list_artifacts", run_id, rel or None):
                (pending if item.is_dir else found).append(item.path)
        return sorted(found)

    def child_env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.uri}
