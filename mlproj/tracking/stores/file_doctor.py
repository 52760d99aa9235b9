"""`mlproj runs doctor`: every problem of a file store, and the repairs that lose nothing.

Repairs never delete: a damaged meta.yaml is kept beside the new one as
`meta.yaml.damaged-<time>`; a file that is not UTF-8 is reported and left alone. A RUNNING run
is marked KILLED only when its owner is provably gone (tracking/owner.py: its `mlproj.owner` tag
names a process on this host that is no longer the one that started the run). Without owner tags
(runs started by MLflow, or by an older mlproj) the run is reported and left RUNNING.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlproj._util.clock import now_ms
from mlproj._util.fs import atomic_write
from mlproj.tracking.owner import END_REASON_TAG, owner_checkable, owner_gone
from mlproj.tracking.stores import metafile
from mlproj.tracking.stores.file_checks import (
    being_created,
    experiment_problem,
    run_meta_problem,
)
from mlproj.tracking.stores.file_read import parse_metric_line, read_meta

DOCTOR_TAG = "mlproj.doctor"
_RESERVED = frozenset({"tags", "datasets", "traces", "models"})
_RUNNING, _FAILED, _KILLED = 1, 4, 5


@dataclass(frozen=True)
class Finding:
    path: str
    problem: str
    fixed: str | None = None  # what --fix did; None: reported only


def examine(root: str, fix: bool) -> list[Finding]:
    """Every problem under the store at `root` (a directory), repaired when `fix`."""
    findings: list[Finding] = []
    for name in sorted(os.listdir(root)):
        if name.startswith(".") or name == "models":
            continue
        findings += _experiment(os.path.join(root, name), fix)
    return findings


def _experiment(exp_dir: str, fix: bool) -> Iterator[Finding]:
    problem = experiment_problem(exp_dir)
    if problem and not os.path.isdir(exp_dir):
        yield Finding(exp_dir, problem)  # a file where an experiment should be: move it yourself
        return
    if problem:
        fixed = _rebuild_experiment(exp_dir) if fix else None
        yield Finding(os.path.join(exp_dir, "meta.yaml"), problem, fixed)
    for name in sorted(os.listdir(exp_dir)):
        run_dir = os.path.join(exp_dir, name)
        if name in _RESERVED or name.startswith(".") or not os.path.isdir(run_dir):
            continue
        yield from _run(run_dir, fix)


def _run(run_dir: str, fix: bool) -> Iterator[Finding]:
    meta_path = os.path.join(run_dir, "meta.yaml")
    meta = read_meta(meta_path)
    problem = run_meta_problem(run_dir, meta)
    if problem and meta is None and being_created(run_dir):
        return  # a run being created right now: meta.yaml comes last
    if problem:
        fixed = _rebuild_run_meta(run_dir, meta or {}) if fix else None
        yield Finding(meta_path, problem, fixed)
        meta = read_meta(meta_path) if fixed else None
    tags: dict[str, str] = {}
    for kind in ("params", "tags", "metrics"):
        for path, text, bad in _files(os.path.join(run_dir, kind)):
            if bad:
                yield Finding(path, f"{bad}; kept as is, not shown by mlproj")
            elif kind == "metrics":
                lines = [ln for ln in text.splitlines() if ln.strip()]
                broken = sum(1 for ln in lines if parse_metric_line("m", ln) is None)
                if broken:
                    yield Finding(path, f"{broken} malformed metric line(s), skipped when read")
            elif kind == "tags":
                tags[os.path.relpath(path, os.path.join(run_dir, "tags"))] = text
    if meta is not None and meta.get("status") == _RUNNING:
        yield from _running(run_dir, meta, tags, fix)


def _running(
    run_dir: str, meta: dict[str, object], tags: dict[str, str], fix: bool
) -> Iterator[Finding]:
    path = os.path.join(run_dir, "meta.yaml")
    if not owner_checkable(tags):
        yield Finding(
            path,
            "RUNNING with no owner this host can check (no mlproj.owner tag, or another "
            "host): left as is",
        )
    elif (reason := owner_gone(tags)) is not None:
        fixed = None
        if fix:
            _write_tag(run_dir, END_REASON_TAG, reason)
            _write_tag(run_dir, DOCTOR_TAG, f"marked KILLED by mlproj runs doctor: {reason}")
            _write_meta(run_dir, {**meta, "status": _KILLED, "end_time": now_ms()})
            fixed = "marked KILLED"
        yield Finding(path, "RUNNING, but the mlproj that owned it is gone", fixed)


def _files(folder: str) -> Iterator[tuple[str, str, str | None]]:
    """(path, text, what is wrong) of every file under a params/tags/metrics folder."""
    for dirpath, _, filenames in os.walk(folder):
        for filename in sorted(filenames):
            path = os.path.join(dirpath, filename)
            try:
                yield path, metafile.read_text(path), None
            except UnicodeDecodeError as exc:
                yield path, "", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x})"
            except OSError as exc:
                yield path, "", f"unreadable ({exc.strerror})"


def _keep_damaged(path: str) -> None:
    if os.path.lexists(path):
        os.rename(path, f"{path}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")


def _rebuild_experiment(exp_dir: str) -> str:
    experiment_id = os.path.basename(exp_dir)
    meta_path = os.path.join(exp_dir, "meta.yaml")
    _keep_damaged(meta_path)
    now = now_ms()
    name = f"recovered-{experiment_id}"
    meta = {
        "artifact_location": Path(exp_dir).as_uri(),
        "creation_time": now,
        "experiment_id": experiment_id,
        "last_update_time": now,
        "lifecycle_stage": "active",
        "name": name,
    }
    atomic_write(meta_path, metafile.dump_meta(meta).encode(), exp_dir)
    return f"meta.yaml rebuilt; the experiment is named {name!r} (rename it in MLflow)"


def _rebuild_run_meta(run_dir: str, partial: dict[str, object]) -> str:
    """A usable meta.yaml from what survived, the directory names and the run's tags."""
    tags = {
        p.name: t
        for p, t, bad in ((Path(p), t, b) for p, t, b in _files(os.path.join(run_dir, "tags")))
        if not bad
    }
    status = partial.get("status")
    lost = not isinstance(status, int) or status not in (1, 2, 3, 4, 5)
    start = partial.get("start_time")
    mtime_ms = int(os.stat(run_dir).st_mtime * 1000)
    meta: dict[str, object] = {
        "artifact_uri": Path(run_dir, "artifacts").as_uri(),
        "end_time": partial.get("end_time") if not lost else mtime_ms,
        "entry_point_name": "",
        "experiment_id": os.path.basename(os.path.dirname(run_dir)),
        "lifecycle_stage": "active",
        "run_id": os.path.basename(run_dir),
        "run_name": tags.get("mlflow.runName", ""),
        "source_name": "",
        "source_type": 4,
        "source_version": "",
        "start_time": start if isinstance(start, int) else mtime_ms,
        "status": _FAILED if lost else status,
        "tags": [],
        "user_id": tags.get("mlflow.user", ""),
    }
    _keep_damaged(os.path.join(run_dir, "meta.yaml"))
    if lost:
        _write_tag(
            run_dir, DOCTOR_TAG, "meta.yaml rebuilt by mlproj runs doctor; status lost, set FAILED"
        )
    _write_meta(run_dir, meta)
    return "meta.yaml rebuilt (damaged copy kept beside it)" + (
        "; status lost, set FAILED" if lost else ""
    )


def _write_meta(run_dir: str, meta: dict[str, object]) -> None:
    data = metafile.dump_meta(meta).encode()
    atomic_write(os.path.join(run_dir, "meta.yaml"), data, run_dir)


def _write_tag(run_dir: str, key: str, value: str) -> None:
    os.makedirs(os.path.join(run_dir, "tags"), exist_ok=True)
    atomic_write(os.path.join(run_dir, "tags", key), value.encode(), run_dir)
