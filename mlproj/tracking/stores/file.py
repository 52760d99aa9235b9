"""MLflow's file store (`mlruns/`), read and written in exactly MLflow's layout.

Layout: `<root>/<experiment_id>/meta.yaml`, and per run
`<root>/<experiment_id>/<run_id>/{meta.yaml, params/, tags/, metrics/, artifacts/}`. Every file
is written to a temp file and renamed into place, so a reader (this process, a child's MLflow,
`mlproj runs`) never sees half a file. A run directory only counts once its meta.yaml exists,
and meta.yaml is written last, so a run appears complete or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlproj._util.clock import now_ms
from mlproj._util.fs import atomic_write
from mlproj.errors import TrackingError, UsageError
from mlproj.tracking import names
from mlproj.tracking.base import TERMINAL_STATUSES, Experiment, Metric, Run, RunInfo, RunStatus
from mlproj.tracking.limits import check_key
from mlproj.tracking.stores import local_artifacts, metafile
from mlproj.tracking.stores.file_checks import (
    being_created,
    check_experiment_dir,
    check_store_root,
    experiment_problem,
    run_meta_problem,
    writing,
)
from mlproj.tracking.stores.file_read import (
    lazy_metrics,
    lazy_values,
    parse_metric_line,
    read_meta,
)

STATUS_CODES: dict[RunStatus, int] = {
    "RUNNING": 1,
    "SCHEDULED": 2,
    "FINISHED": 3,
    "FAILED": 4,
    "KILLED": 5,
}
STATUS_NAMES: dict[int, str] = {code: name for name, code in STATUS_CODES.items()}
DEFAULT_EXPERIMENT_ID = "0"
RUN_NAME_TAG = "mlflow.runName"

_META = "meta.yaml"
# Folders inside an experiment that are not runs (MLflow 3.x reserves them).
_RESERVED = frozenset({"tags", "datasets", "traces", "models"})
_RUN_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}\Z")


def _fill_then_rename(building: str, final: str, fill: Callable[[], None], what: str) -> None:
    """Make `building`, fill it, rename it to `final`: readers see all of it or nothing."""
    try:
        os.makedirs(building)
        fill()
        os.rename(building, final)
    except OSError as exc:
        import shutil  # only a failed write gets here; shutil is off a run's path

        shutil.rmtree(building, ignore_errors=True)
        raise TrackingError(
            f"cannot create {what}: {exc.strerror or exc}",
            hint="free some space" if exc.errno == errno.ENOSPC else None,
        ) from exc


def _run_info(meta: Mapping[str, Any], tags: Mapping[str, str]) -> RunInfo:
    status = meta.get("status", 1)
    status_name = STATUS_NAMES.get(status, "RUNNING") if isinstance(status, int) else str(status)
    return RunInfo(
        run_id=str(meta.get("run_id") or meta.get("run_uuid") or ""),
        experiment_id=str(meta.get("experiment_id", "")),
        run_name=str(meta.get("run_name") or tags.get(RUN_NAME_TAG, "")),
        status=status_name,
        start_time=meta.get("start_time"),
        end_time=meta.get("end_time"),
        artifact_uri=str(meta.get("artifact_uri") or ""),
        user_id=str(meta.get("user_id") or ""),
    )


def _write(path: str, data: bytes, run_dir: str, fresh: bool) -> None:
    """`fresh`: a new file in a run directory still being built, which readers cannot see until
    it is renamed into place whole; written directly (half the file operations of a run's
    creation). Otherwise atomically: readers see the old value or the new one."""
    if fresh:
        with open(path, "xb") as handle:
            handle.write(data)
    else:
        atomic_write(path, data, run_dir)


class FileStore:
    """A tracking store in a local `mlruns/` directory, addressed by an absolute file: URI."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.root = local_artifacts.local_path(uri)
        check_store_root(self.root)
        # damaged files met while reading (path -> what is wrong): skipped, then named in a
        # warning by the command, so one bad file never hides the rest of the store
        self.damage: dict[str, str] = {}

    def _damaged(self, path: str, what: str) -> None:
        self.damage.setdefault(path, what)

    # -- experiments ------------------------------------------------------------------------

    def _exp_dir(self, experiment_id: str) -> str:
        if not _RUN_ID.match(experiment_id):
            raise TrackingError(f"invalid experiment id {experiment_id!r}")
        path = os.path.join(self.root, experiment_id)
        check_experiment_dir(path)
        return path

    def _experiment(self, experiment_id: str) -> Experiment | None:
        meta = read_meta(os.path.join(self._exp_dir(experiment_id), _META))
        if meta is None:
            return None
        return Experiment(
            experiment_id=str(meta.get("experiment_id", experiment_id)),
            name=str(meta.get("name", "")),
            artifact_location=str(meta.get("artifact_location") or ""),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
        )

    def list_experiments(self) -> list[Experiment]:
        try:
            entries = sorted(os.listdir(self.root))
        except (FileNotFoundError, NotADirectoryError):
            return []
        found = []
        for name in entries:
            if name.startswith(".") or name == "models" or not _RUN_ID.match(name):
                continue
            if name == DEFAULT_EXPERIMENT_ID:  # the store itself is broken without it
                check_experiment_dir(os.path.join(self.root, name))
            problem = experiment_problem(os.path.join(self.root, name))
            if problem:
                self._damaged(os.path.join(self.root, name), problem)
                continue
            exp = self._experiment(name)
            if exp is not None and exp.lifecycle_stage == "active":
                found.append(exp)
        from mlproj.tracking.stores.order import in_id_order  # listing only: off a run's path

        return in_id_order(found)

    def _write_experiment(self, experiment_id: str, name: str) -> None:
        exp_dir = self._exp_dir(experiment_id)
        now = now_ms()
        meta = {
            "artifact_location": Path(exp_dir).as_uri(),
            "creation_time": now,
            "effective_trace_archival_retention": None,
            "experiment_id": experiment_id,
            "last_update_time": now,
            "lifecycle_stage": "active",
            "name": name,
            "trace_location": None,
            "workspace": "default",
        }
        data = metafile.dump_meta(meta).encode()
        if os.path.isdir(exp_dir):  # left without meta.yaml by an older version: complete it
            atomic_write(os.path.join(exp_dir, _META), data, exp_dir)
            return
        # Built under a temporary name and renamed into place, as runs are (create_run).
        building = os.path.join(self.root, f".{experiment_id}.creating")
        _fill_then_rename(
            building,
            exp_dir,
            lambda: atomic_write(os.path.join(building, _META), data, building),
            f"an experiment in {self.root}",
        )

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        """Serialise experiment creation between processes sharing this store."""
        from mlproj._util.filelock import locked  # a new experiment only: off a warm run's path

        return locked(
            Path(self.root, ".mlproj.lock"), "the tracking store", timeout=None, error=TrackingError
        )

    @writing
    def _ensure_root(self) -> None:
        """Create the store as MLflow does: the root, `.trash` and the Default experiment."""
        if os.path.isfile(os.path.join(self.root, DEFAULT_EXPERIMENT_ID, _META)):
            return
        try:
            os.makedirs(os.path.join(self.root, ".trash"), exist_ok=True)
        except OSError as exc:
            raise TrackingError(f"cannot create the tracking store {self.root}: {exc}") from exc
        with self._lock():
            if self._experiment(DEFAULT_EXPERIMENT_ID) is None:
                self._write_experiment(DEFAULT_EXPERIMENT_ID, "Default")

    def _deleted_experiment_named(self, name: str) -> bool:
        trash = os.path.join(self.root, ".trash")
        for entry in os.listdir(trash) if os.path.isdir(trash) else []:
            meta = read_meta(os.path.join(trash, entry, _META))
            if meta is not None and meta.get("name") == name:
                return True
        return False

    @writing
    def resolve_experiment(self, name: str | None, experiment_id: str | None) -> str:
        if name is not None and experiment_id is not None:
            raise UsageError("give either an experiment name or an experiment id, not both")
        self._ensure_root()
        if experiment_id is not None:
            exp = self._experiment(experiment_id)
            if exp is None or exp.lifecycle_stage != "active":
                raise TrackingError(
                    f"no active experiment with id {experiment_id!r} in {self.uri}",
                    hint="pass an existing id, or an experiment name to create it",
                )
            return exp.experiment_id
        if name is None:
            return DEFAULT_EXPERIMENT_ID
        with self._lock():
            for exp in self.list_experiments():
                if exp.name == name:
                    return exp.experiment_id
            if self._deleted_experiment_named(name):
                raise TrackingError(
                    f"experiment {name!r} exists in deleted state in {self.uri}",
                    hint="restore it, or remove it from the store's .trash folder",
                )
            new_id = names.experiment_id()
            self._write_experiment(new_id, name)
            return new_id

    # -- runs -------------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> str:
        """The directory of an existing run (active or deleted experiments)."""
        if not _RUN_ID.match(run_id):
            raise TrackingError(f"invalid run id {run_id!r}")
        for parent in (self.root, os.path.join(self.root, ".trash")):
            try:
                experiments = os.listdir(parent)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for exp in experiments:
                candidate = os.path.join(parent, exp, run_id)
                if os.path.isfile(os.path.join(candidate, _META)):
                    return candidate
        raise TrackingError(f"run {run_id} not found in {self.uri}")

    @writing
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Mapping[str, str],
        run_name: str | None,
    ) -> RunInfo:
        self._ensure_root()
        exp = self._experiment(experiment_id)
        if exp is None or exp.lifecycle_stage != "active":
            raise TrackingError(f"no active experiment with id {experiment_id!r} in {self.uri}")
        tag_name = tags.get(RUN_NAME_TAG)
        if run_name and tag_name and run_name != tag_name:
            raise TrackingError(
                f"run name {run_name!r} differs from the {RUN_NAME_TAG} tag {tag_name!r}"
            )
        name = run_name or tag_name or names.run_name()
        all_tags = {**tags, RUN_NAME_TAG: name}
        for key in all_tags:
            check_key("tag", key)
        run_id = names.run_id()
        exp_dir = self._exp_dir(experiment_id)
        run_dir = os.path.join(exp_dir, run_id)
        meta: dict[str, Any] = {
            "artifact_uri": Path(run_dir, "artifacts").as_uri(),
            "end_time": None,
            "entry_point_name": "",
            "experiment_id": experiment_id,
            "lifecycle_stage": "active",
            "run_id": run_id,
            "run_name": name,
            "source_name": "",
            "source_type": 4,
            "source_version": "",
            "start_time": start_time,
            "status": STATUS_CODES["RUNNING"],
            "tags": [],
            "user_id": user_id,
        }
        # Built under a temporary name and renamed into place: a full disk or a kill half way
        # never leaves a run directory behind (readers skip dot-directories; MLflow skips
        # directories without meta.yaml).
        building = os.path.join(exp_dir, f".{run_id}.creating")

        def fill() -> None:
            for sub in ("metrics", "params", "tags", "artifacts"):
                os.mkdir(os.path.join(building, sub))
            for key, value in all_tags.items():
                self._write_value(building, "tags", key, value, fresh=True)
            self._write_meta(building, meta, fresh=True)

        _fill_then_rename(building, run_dir, fill, f"a run in {exp_dir}")
        return _run_info(meta, all_tags)

    def _write_value(
        self, run_dir: str, kind: str, key: str, value: str, *, fresh: bool = False
    ) -> None:
        path = os.path.join(run_dir, kind, key)
        if "/" in key:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        _write(path, value.encode("utf-8"), run_dir, fresh)

    def _write_meta(self, run_dir: str, meta: Mapping[str, Any], *, fresh: bool = False) -> None:
        data = metafile.dump_meta(meta).encode("utf-8")
        _write(os.path.join(run_dir, _META), data, run_dir, fresh)

    def _meta(self, run_dir: str) -> dict[str, Any]:
        meta = read_meta(os.path.join(run_dir, _META))
        problem = run_meta_problem(run_dir, meta)
        if meta is None or problem:
            raise TrackingError(
                f"run {os.path.basename(run_dir)}: {os.path.join(run_dir, _META)} is {problem}",
                "`mlproj runs doctor` lists the store's problems; `--fix` repairs what it can",
            )
        return meta

    @writing
    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        run_dir = self._run_dir(run_id)
        for key, value in params.items():
            check_key("param", key)
            path = os.path.join(run_dir, "params", key)
            if os.path.isfile(path):
                old = metafile.read_text(path)
                if old != value:
                    raise TrackingError(
                        f"param {key!r} of run {run_id} was already logged with value {old!r}; "
                        f"cannot change it to {value!r}",
                        hint="params are immutable in MLflow; log a new run instead",
                    )
                continue
            self._write_value(run_dir, "params", key, value)

    @writing
    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        run_dir = self._run_dir(run_id)
        for key, value in tags.items():
            check_key("tag", key)
            self._write_value(run_dir, "tags", key, value)
        if RUN_NAME_TAG in tags:  # MLflow keeps run_name in meta.yaml in step with the tag
            meta = self._meta(run_dir)
            meta["run_name"] = tags[RUN_NAME_TAG]
            self._write_meta(run_dir, meta)

    @writing
    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        run_dir = self._run_dir(run_id)
        lines: dict[str, list[str]] = {}
        for m in metrics:
            check_key("metric", m.key)
            lines.setdefault(m.key, []).append(f"{m.timestamp} {float(m.value)!r} {m.step}\n")
        for key, key_lines in lines.items():
            path = os.path.join(run_dir, "metrics", key)
            if "/" in key:
                os.makedirs(os.path.dirname(path), exist_ok=True)
            # One append per metric: O_APPEND writes of a few bytes land whole.
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, "".join(key_lines).encode())
            finally:
                os.close(fd)

    @writing
    def set_terminated(self, run_id: str, status: RunStatus, end_time: int) -> None:
        if status not in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} is not a terminal run status")
        run_dir = self._run_dir(run_id)
        meta = self._meta(run_dir)
        meta["status"] = STATUS_CODES[status]
        meta["end_time"] = end_time
        meta.pop("deleted_time", None)
        self._write_meta(run_dir, meta)

    @writing
    def set_status(self, run_id: str, status: RunStatus) -> None:
        if status in TERMINAL_STATUSES:
            raise TrackingError(f"{status!r} ends a run: use set_terminated")
        run_dir = self._run_dir(run_id)
        meta = self._meta(run_dir)
        meta["status"] = STATUS_CODES[status]
        self._write_meta(run_dir, meta)

    def _load_run(self, run_dir: str, meta: Mapping[str, Any]) -> Run:
        """A run whose params, tags and metrics are read lazily (see file_read.py)."""
        report = self._damaged
        tags = lazy_values(os.path.join(run_dir, "tags"), report)
        return Run(
            info=_run_info(meta, tags),
            params=lazy_values(os.path.join(run_dir, "params"), report),
            tags=tags,
            metrics=lazy_metrics(os.path.join(run_dir, "metrics"), report),
        )

    def get_run(self, run_id: str) -> Run:
        run_dir = self._run_dir(run_id)
        return self._load_run(run_dir, self._meta(run_dir))

    def search_runs(self, experiment_ids: Sequence[str]) -> list[Run]:
        runs: list[Run] = []
        for experiment_id in experiment_ids:
            exp_dir = self._exp_dir(experiment_id)
            try:
                entries = os.listdir(exp_dir)
            except (FileNotFoundError, NotADirectoryError):
                raise TrackingError(
                    f"no experiment with id {experiment_id!r} in {self.uri}"
                ) from None
            for name in entries:
                if name in _RESERVED or name.startswith(".") or name == _META:
                    continue
                run_dir = os.path.join(exp_dir, name)
                meta = read_meta(os.path.join(run_dir, _META))
                problem = run_meta_problem(run_dir, meta)
                if (
                    problem
                    and os.path.isdir(run_dir)
                    and not (meta is None and being_created(run_dir))
                ):
                    self._damaged(os.path.join(run_dir, _META), problem)
                if problem:
                    continue
                if meta is None or meta.get("lifecycle_stage", "active") != "active":
                    continue
                if str(meta.get("experiment_id")) != experiment_id:
                    continue  # a copied or misplaced run; MLflow ignores it too
                runs.append(self._load_run(run_dir, meta))
        runs.sort(key=lambda r: (-(r.info.start_time or 0), r.info.run_id))
        return runs

    def metric_history(self, run_id: str, key: str) -> list[Metric]:
        check_key("metric", key)
        path = os.path.join(self._run_dir(run_id), "metrics", key)
        try:
            text = metafile.read_text(path)
        except (FileNotFoundError, IsADirectoryError):
            return []
        return [m for line in text.splitlines() if (m := parse_metric_line(key, line))]

    # -- artifacts --------------------------------------------------------------------------

    def _artifact_root(self, run_id: str) -> str:
        uri = str(self._meta(self._run_dir(run_id)).get("artifact_uri") or "")
        if local_artifacts.is_local(uri):
            return local_artifacts.local_path(uri)
        raise TrackingError(
            f"run {run_id} keeps its artifacts at {uri!r}, which mlproj cannot reach",
            hint="the file store handles local artifact locations only",
        )

    def log_artifact(self, run_id: str, local_path: Path, artifact_path: str = "") -> None:
        local_artifacts.copy_in(self._artifact_root(run_id), local_path, artifact_path)

    def write_artifact(self, run_id: str, artifact_file: str, data: bytes) -> None:
        local_artifacts.write(self._artifact_root(run_id), artifact_file, data)

    def read_artifact(self, run_id: str, path: str) -> bytes:
        return local_artifacts.read(self._artifact_root(run_id), run_id, path)

    def list_artifacts(self, run_id: str, path: str = "") -> list[str]:
        return local_artifacts.list_files(self._artifact_root(run_id), path)

    def child_env(self) -> dict[str, str]:
        # MLflow >= 3.13 refuses the file store without the opt-in.
        return {"MLFLOW_TRACKING_URI": self.uri, "MLFLOW_ALLOW_FILE_STORE": "true"}
