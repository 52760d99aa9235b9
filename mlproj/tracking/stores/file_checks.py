"""A file store's directories must be directories; an OS error while writing is a clear error.

`mlruns` that is a plain file, `mlruns/0` that is a file (or a symlink to one), and a read-only
store gave "no runs found" (exit 0) or an internal error. Each is now a TrackingError that
names the path and the fix.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from mlproj.errors import TrackingError

P = ParamSpec("P")
T = TypeVar("T")


def _kind(path: str) -> str:
    if os.path.islink(path) and not os.path.exists(path):
        return "a dangling symlink"
    return "a symlink to a file" if os.path.islink(path) else "a file"


def check_store_root(root: str) -> None:
    if os.path.lexists(root) and not os.path.isdir(root):
        raise TrackingError(
            f"the tracking store {root} is {_kind(root)}, not a directory",
            "move it away, or pass --tracking-uri with a directory",
        )


def check_experiment_dir(path: str) -> None:
    if os.path.lexists(path) and not os.path.isdir(path):
        raise TrackingError(
            f"experiment directory {path} is {_kind(path)}, not a directory",
            "move it away (`mlproj runs doctor` lists every such problem)",
        )


def writing(method: Callable[P, T]) -> Callable[P, T]:
    """OSError while writing the store (read-only, full, permissions) -> one-line error."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return method(*args, **kwargs)
        except OSError as exc:
            where = exc.filename or getattr(args[0], "root", "the tracking store")
            raise TrackingError(
                f"cannot write to the tracking store at {where}: {exc.strerror or exc}",
                "check that the store is a writable directory, or pass --tracking-uri",
            ) from exc

    return wrapper


def experiment_problem(exp_dir: str) -> str | None:
    """What is wrong with an experiment directory (None: readable)."""
    from mlproj.tracking.stores.file_read import read_meta

    if not os.path.isdir(exp_dir):
        return f"{_kind(exp_dir)}, not an experiment directory"
    meta_path = os.path.join(exp_dir, "meta.yaml")
    if not os.path.lexists(meta_path):
        return "an experiment directory without meta.yaml (its runs are hidden)"
    meta = read_meta(meta_path)
    if meta is None or not str(meta.get("name") or "").strip():
        return "an experiment whose meta.yaml is unreadable or has no name (its runs are hidden)"
    if str(meta.get("experiment_id")) != os.path.basename(exp_dir):
        return "an experiment whose meta.yaml names another experiment id"
    return None


_RUN_KEYS = ("experiment_id", "status", "start_time", "artifact_uri")


def being_created(run_dir: str, now: float | None = None) -> bool:
    """A run directory without meta.yaml younger than a minute is a run being created (meta.yaml
    is written last), not damage."""
    try:
        age = (time.time() if now is None else now) - os.stat(run_dir).st_mtime
    except OSError:
        return False
    return age < 60


def run_meta_problem(run_dir: str, meta: dict[str, object] | None) -> str | None:
    """What is wrong with a run's meta.yaml (None: usable). A truncated file parses as a
    mapping with keys missing; it must not show as a run with an empty id, RUNNING, 1970."""
    meta_path = os.path.join(run_dir, "meta.yaml")
    if meta is None:
        if not os.path.lexists(meta_path):
            return "missing (a run directory without meta.yaml)"
        return "unreadable (not UTF-8 YAML, or not a mapping)"
    run_id = meta.get("run_id") or meta.get("run_uuid")
    missing = [key for key in ("run_id", *_RUN_KEYS) if meta.get(key) is None]
    if key_missing := [k for k in missing if k != "run_id" or run_id is None]:
        return f"truncated or damaged (no {', '.join(key_missing)})"
    if str(run_id) != os.path.basename(run_dir):
        return "damaged (its run_id names another run)"
    if not isinstance(meta.get("status"), int | str) or not isinstance(meta.get("start_time"), int):
        return "damaged (status or start_time is not a number)"
    return None
