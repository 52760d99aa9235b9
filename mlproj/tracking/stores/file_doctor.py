"""`mlproj runs doctor`: every problem of a file store, and the repairs that lose nothing.

Repairs never delete: a damaged meta.yaml is kept beside the new one as
`meta.yaml.damaged-<time>`; a file that is not UTF-8 is reported and left alone. A RUNNING run
is marked KILLED only when its owner is provably gone: its `mlproj.owner.*` tags name this host
and a pid that is no longer the process that started it. Without owner tags (runs started by
MLflow, or by an mlproj that did not record them) the run is reported and left RUNNING.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlproj.tracking.stores import metafile
from mlproj.tracking.stores.file_checks import (
    being_created,
    experiment_problem,
    run_meta_problem,
)
from mlproj.tracking.stores.file_read import parse_metric_line, read_meta

# The owner of a running run (written by the run pipeline): host name, pid, and the pid's start
# time in clock ticks after boot (field 22 of /proc/<pid>/stat), so a reused pid is not taken
# for the owner.
OWNER_HOST, OWNER_PID, OWNER_START = "mlproj.owner.host", "mlproj.owner.pid", "mlproj.owner.start"
DOCTOR_TAG = "mlproj.doctor"
_RESERVED = frozenset({"tags", "datasets", "traces", "models"})
_RUNNING, _FAILED, _KILLED = 1, 4, 5


@dataclass(frozen=True)
class Finding:
    path: str
    problem: str
    fixed: str | None = None  # what --fix did; None: reported only


def process_start_ticks(pid: int) -> int | None:
    """When `pid` started (clock ticks after boot), None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[19]) if len(fields) > 19 and fields[0] != b"Z" else None


def owner_gone(tags: dict[str, str]) -> bool | None:
    """True: the owner is provably gone; False: it still runs; None: cannot tell."""
    host, pid, start = tags.get(OWNER_HOST), tags.get(OWNER_PID), tags.get(OWNER_START)
    if not (host and pid and pid.isdigit()) or host != socket.gethostname():
        return None
    started = process_start_ticks(int(pid))
    if started is None:
        return True
    if start and start.isdigit():
        return started != int(start)
    return None  # the pid is alive and nothing says it is another process


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
    gone = owner_gone(tags)
    path = os.path.join(run_dir, "meta.yaml")
    if gone is None:
        yield Finding(
            path,
            "RUNNING with no owner this host can check (no mlproj.owner.* tags, or another "
            "host): left as is",
        )
    elif gone:
        fixed = None
        if fix:
            note = f"owner pid {tags.get(OWNER_PID)} on {tags.get(OWNER_HOST)} is gone"
            _write_tag(run_dir, DOCTOR_TAG, f"marked KILLED by mlproj runs doctor: {note}")
            _write_meta(run_dir, {**meta, "status": _KILLED, "end_time": _now_ms()})
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
    now = _now_ms()
    name = f"recovered-{experiment_id}"
    meta = {
        "artifact_location": Path(exp_dir).as_uri(),
        "creation_time": now,
        "experiment_id": experiment_id,
        "last_update_time": now,
        "lifecycle_stage": "active",
        "name": name,
    }
    metafile.atomic_write(meta_path, metafile.dump_meta(meta).encode(), exp_dir)
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
    metafile.atomic_write(os.path.join(run_dir, "meta.yaml"), data, run_dir)


def _write_tag(run_dir: str, key: str, value: str) -> None:
    os.makedirs(os.path.join(run_dir, "tags"), exist_ok=True)
    metafile.atomic_write(os.path.join(run_dir, "tags", key), value.encode(), run_dir)


def _now_ms() -> int:
    return int(time.time() * 1000)
