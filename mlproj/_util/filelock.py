"""File locks (fcntl.flock): blocking locks around builds and fetches, and non-blocking "leases"
that a process holds on a checkout or an env for as long as it uses it.

flock locks belong to the open file: they vanish when the process exits or is killed, so a
crashed run never leaves a stale lock behind. Lock files are never deleted: unlinking one while
another process waits on it would split the lock in two.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from mlproj.errors import MlprojError, SourceError

LOCK_TIMEOUT_S = 900.0  # a first clone of a big repository can take minutes
_POLL_S = 0.05


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)


def try_lock(path: Path) -> int | None:
    """Take the lock at `path` now, or return None when another process holds it.

    The returned descriptor holds the lock until `unlock(fd)` or process exit; a forked child
    (a detached run's supervisor) keeps holding it.
    """
    fd = _open(path)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def unlock(fd: int) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def try_locked(path: Path) -> Iterator[bool]:
    """Hold the lock at `path` for the block if it is free now; the block sees whether it got it."""
    fd = try_lock(path)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            unlock(fd)


def lease_free_slot(
    root: Path, name: str, slots: int, prepare: Callable[[Path], None], *, what: str, hint: str
) -> tuple[Path, int]:
    """Lease the first of `root/name`, `root/name-1`, ... that no other process holds (lock
    `root/.<slot>.lease`), made usable by `prepare(path)`: the path and the held lock.

    A failing `prepare` gives the lease back; SourceError says when all `slots` of `what`
    are in use."""
    for slot in range(slots):
        slot_name = name if slot == 0 else f"{name}-{slot}"
        lease = root / f".{slot_name}.lease"
        fd = try_lock(lease)
        if fd is None:
            continue  # another run is using this one
        os.utime(lease)  # last used, for `mlproj cache prune`
        path = root / slot_name
        try:
            prepare(path)
        except BaseException:
            unlock(fd)
            raise
        return path, fd
    raise SourceError(f"all {slots} {what} in {root} are in use", hint=hint)


@contextmanager
def locked(
    path: Path,
    what: str,
    *,
    timeout: float | None = LOCK_TIMEOUT_S,
    on_wait: Callable[[], None] | None = None,
    error: type[MlprojError] = SourceError,
) -> Iterator[None]:
    """Hold the lock at `path` for the block.

    When another process holds it, `on_wait()` is called once, then the wait lasts at most
    `timeout` seconds (None: as long as it takes) before `error` says who is waited for.
    """
    fd = try_lock(path)
    if fd is None:
        if on_wait is not None:
            on_wait()
        fd = _wait(path, what, timeout, error)
    try:
        yield
    finally:
        unlock(fd)


def _wait(path: Path, what: str, timeout: float | None, error: type[MlprojError]) -> int:
    if timeout is None:
        fd = _open(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd
    deadline = time.monotonic() + timeout
    while True:
        got = try_lock(path)
        if got is not None:
            return got
        if time.monotonic() >= deadline:
            raise error(
                f"timed out after {timeout:.0f} s waiting for another mlproj "
                f"process to finish with {what} (lock {path})",
                hint="wait for it, or end it if it is stuck",
            )
        time.sleep(_POLL_S)
