"""An MLflow tracking server, spoken to over its REST API with requests.

Artifacts go through the server's proxy (`/api/2.0/mlflow-artifacts/artifacts/<path>`) when a
run's artifact URI is `mlflow-artifacts:`; a local artifact root (a server on this machine)
is written directly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from mlproj.errors import TrackingError, UsageError
from mlproj.tracking.base import TERMINAL_STATUSES, Experiment, Metric, Run, RunInfo, RunStatus
from mlproj.tracking.stores import local_artifacts
from mlproj.tracking.stores.order import in_id_order
from mlproj.tracking.stores.rest_http import (
    AUTH_VARIABLES,
    DEFAULT_RETRY,
    HttpClient,
    Retry,
    ServerError,
)

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def _float(value: Any) -> float:
    # JSON has no NaN/Infinity: the server sends "NaN", "Infinity", "-Infinity" as strings.
    return float(value)


def _pairs(items: Any) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


def run_from_json(body: Mapping[str, Any]) -> Run:
    info, data = body.get("info", {}), body.get("data", {})
    tags = _pairs(data.get("tags"))
    return Run(
        info=RunInfo(
            run_id=str(info.get("run_id") or info.get("run_uuid")),
            experiment_id=str(info.get("experiment_id", "")),
            run_name=str(info.get("run_name") or tags.get("mlflow.runName", "")),
            status=str(info.get("status", "RUNNING")),
            start_time=_int(info.get("start_time")),
            end_time=_int(info.get("end_time")),
            artifact_uri=str(info.get("artifact_uri", "")),
            user_id=str(info.get("user_id", "")),
        ),
        params=_pairs(data.get("params")),
        tags=tags,
        metrics={str(m["key"]): _float(m["value"]) for m in data.get("metrics") or []},
    )


def _experiment(body: Mapping[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=str(body["experiment_id"]),
        name=str(body.get("name", "")),
        artifact_location=str(body.get("artifact_location", "")),
        lifecycle_stage=str(body.get("lifecycle_stage", "active")),
    )


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _metric_json(m: Metric) -> dict[str, Any]:
    value: Any = m.value
    if math.isnan(value) or math.isinf(value):
        value = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return {"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step}


class RestStore:
    """Runs kept by an MLflow tracking server at an http(s) URI."""

    def __init__(
        self,
        uri: str,
        *,
        env: Mapping[str, str] | None = None,
        page_size: int = 1000,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        self.uri = uri.rstrip("/")
        self.page_size = page_size
        self._env = dict(os.environ if env is None else env)
        self._http = HttpClient(self.uri, self._env, retry)

    # -- plumbing ---------------------------------------------------------------------------

    def _get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        return self._http.json("GET", f"{API}/{endpoint}", params=params)

    def _post(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._http.json("POST", f"{API}/{endpoint}", json=dict(body))

    def _search(self, endpoint: str, body: Mapping[str, Any], key: str) -> list[Any]:
        """Every item of a paged search, following next_page_token to the end."""
        items: list[Any] = []
        token: str | None = None
        while True:
            page = self._post(endpoint, {**body, "page_token": token} if token else body)
            items.extend(page.get(key, []))
            token = page.get("next_page_token")
            if not token:
                return items

    def _log_batch(self, run_id: str, **lists: list[dict[str, Any]]) -> None:
        self._post("runs/log-batch", {"run_id": run_id, **lists})

    # -- experiments ------------------------------------------------------------------------

    def _experiment_by_name(self, name: str) -> Experiment | None:
        try:
            body = self._get("experiments/get-by-name", experiment_name=name)
        except ServerError as exc:
            if exc.error_code == NOT_FOUND or exc.status == 404:
                return None
            raise
        return _experiment(body["experiment"])

    def _active(self, exp: Experiment) -> str:
        if exp.lifecycle_stage != "active":
            raise TrackingError(
                f"experiment {exp.name!r} ({exp.experiment_id}) is deleted on {self.uri}",
                hint="restore it on the server, or use another experiment name",
            )
        return exp.experiment_id

    def resolve_experiment(self, name: str | None, experiment_id: str | None) -> str:
        if name is not None and experiment_id is not None:
            raise UsageError("give either an experiment name or an experiment id, not both")
        if experiment_id is not None:
            try:
                body = self._get("experiments/get", experiment_id=experiment_id)
            except ServerError as exc:
                if exc.error_code == NOT_FOUND or exc.status == 404:
                    raise TrackingError(
                        f"no experiment with id {experiment_id!r} on {self.uri}"
                    ) from None
                raise
            return self._active(_experiment(body["experiment"]))
        if name is None:
            return "0"
        existing = self._experiment_by_name(name)
        if existing is not None:
            return self._active(existing)
        try:
            return str(self._post("experiments/create", {"name": name})["experiment_id"])
        except ServerError as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        created = self._experiment_by_name(name)  # another client created it meanwhile
        if created is None:
            raise TrackingError(f"cannot create or find experiment {name!r} on {self.uri}")
        return self._active(created)

    def list_experiments(self) -> list[Experiment]:
        body = {"max_results": self.page_size, "view_type": "ACTIVE_ONLY"}
        found = [_experiment(e) for e in self._search("experiments/search", body, "experiments")]
        return in_id_order(found)

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Mapping[str, str],
        run_name: str | None,
    ) -> RunInfo:
        # The server stores start_time 0 and user_id "" unless they are sent.
        body: dict[str, Any] = {
            "experiment_id": experiment_id,
            "user_id": user_id,
            "start_time": start_time,
            "tags": [{"key": k, "value": v} for k, v in tags.items()],
        }
        if run_name:
            body["run_name"] = run_name
        return run_from_json(self._post("runs/create", body)["run"]).info

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        items = [{"key": k, "value": v} for k, v in params.items()]
        for chunk in _chunks(items, MAX_PARAMS_PER_BATCH):
            self._log_batch(run_id, params=chunk)

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        items = [{"key": k, "value": v} for k, v in tags.items()]
        for chunk in _chunks(items, MAX_TAGS_PER_BATCH):
            self._log_batch(run_id, tags=chunk)

    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        items = [_metric_json(m) for m in metrics]
        for chunk in _chunks(items, MAX_METRICS_PER_BATCH):
            self._log_batch(run_id, metrics=chunk)

    def set_terminated(self, run_id: str, status: RunStatus, end_time: int) -> None:
        if status not in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} is not a terminal run status")
        # The server silently ignores unknown statuses, hence the check above.
        body = {"run_id": run_id, "run_uuid": run_id, "status": status, "end_time": end_time}
        self._post("runs/update", body)

    def set_status(self, run_id: str, status: RunStatus) -> None:
        if status in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} ends a run: use set_terminated")
        # no end_time: the server keeps the one it has (none, for a run that has not ended)
        self._post("runs/update", {"run_id": run_id, "run_uuid": run_id, "status": status})

    def get_run(self, run_id: str) -> Run:
        try:
            body = self._get("runs/get", run_id=run_id, run_uuid=run_id)
        except ServerError as exc:
            if exc.error_code == NOT_FOUND or exc.status == 404:
                raise TrackingError(f"run {run_id} not found on {self.uri}") from None
            raise
        return run_from_json(body["run"])

    def search_runs(self, experiment_ids: Sequence[str]) -> list[Run]:
        body = {
            "experiment_ids": list(experiment_ids),
            "max_results": self.page_size,
            "run_view_type": "ACTIVE_ONLY",
        }
        return [run_from_json(r) for r in self._search("runs/search", body, "runs")]

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        points: list[Metric] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            page = self._get("metrics/get-history", **params)
            points.extend(
                Metric(key, _float(m["value"]), int(m.get("timestamp", 0)), int(m.get("step", 0)))
                for m in page.get("metrics", [])
            )
            token = page.get("next_page_token")
            if not token:
                return points

    # -- artifacts --------------------------------------------------------------------------

    def _artifact_location(self, run_id: str) -> tuple[str, str]:
        """("proxy", url-prefix) for the server's artifact proxy, or ("local", directory)."""
        uri = self.get_run(run_id).info.artifact_uri
        if uri.startswith("mlflow-artifacts:"):
            parsed = urlparse(uri)
            base = f"{urlparse(self.uri).scheme}://{parsed.netloc}" if parsed.netloc else self.uri
            return "proxy", f"{base}{ARTIFACTS_API}/{parsed.path.strip('/')}"
        if ARTIFACTS_API in uri and uri.startswith(("http://", "https://")):
            return "proxy", uri.rstrip("/")
        if local_artifacts.is_local(uri):
            return "local", local_artifacts.local_path(uri)
        raise TrackingError(
            f"run {run_id} keeps its artifacts at {uri!r}, which mlproj cannot reach",
            hint="start the server with proxied artifacts (the default, `--serve-artifacts`)",
        )

    def _proxy_url(self, prefix: str, rel: str) -> str:
        return f"{prefix}/{quote(rel)}" if rel else prefix

    def _request_url(self, method: str, url: str, **kwargs: Any) -> Any:
        """A request to an absolute URL on the server (artifact proxy); path relative to base."""
        if not url.startswith(self.uri):
            raise TrackingError(f"artifact URL {url} is not on the tracking server {self.uri}")
        return self._http.request(method, url[len(self.uri) :], **kwargs)

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str = "") -> None:
        kind, where = self._artifact_location(run_id)
        if kind == "local":
            local_artifacts.copy_in(where, local_path, artifact_path)
            return
        rel = "/".join(p for p in (local_artifacts.clean_path(artifact_path), local_path.name) if p)
        try:
            with open(local_path, "rb") as handle:
                self._request_url("PUT", self._proxy_url(where, rel), data=handle)
        except FileNotFoundError as exc:
            raise TrackingError(f"cannot log artifact {local_path}: file not found") from exc

    def write_artifact(self, run_id: str, artifact_file: str, data: bytes) -> None:
        kind, where = self._artifact_location(run_id)
        if kind == "local":
            local_artifacts.write(where, artifact_file, data)
            return
        rel = local_artifacts.clean_path(artifact_file)
        if not rel:
            raise TrackingError("an artifact needs a file name")
        self._request_url("PUT", self._proxy_url(where, rel), data=data)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        kind, where = self._artifact_location(run_id)
        if kind == "local":
            return local_artifacts.read(where, run_id, path)
        rel = local_artifacts.clean_path(path)
        try:
            response = self._request_url("GET", self._proxy_url(where, rel))
        except ServerError as exc:
            if exc.status == 404 or exc.error_code == NOT_FOUND:
                raise TrackingError(f"run {run_id} has no artifact {path!r}") from None
            raise
        content: bytes = response.content
        return content

    def list_artifacts(self, run_id: str, path: str = "") -> list[str]:
        kind, where = self._artifact_location(run_id)
        if kind == "local":
            return local_artifacts.list_files(where, path)
        # The listing endpoint takes the path below the proxy root as a query parameter.
        root = where.split(ARTIFACTS_API, 1)[1].strip("/")
        found: list[str] = []
        pending = [local_artifacts.clean_path(path)]
        while pending:
            rel = pending.pop()
            query = "/".join(p for p in (root, rel) if p)
            body = self._http.json("GET", ARTIFACTS_API, params={"path": query})
            for item in body.get("files", []):
                child = "/".join(p for p in (rel, str(item["path"])) if p)
                (pending if item.get("is_dir") else found).append(child)
        return sorted(found)

    def child_env(self) -> dict[str, str]:
        env = {"MLFLOW_TRACKING_URI": self.uri}
        env.update({k: self._env[k] for k in AUTH_VARIABLES if self._env.get(k)})
        return env
