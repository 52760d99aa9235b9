"""File locks (fcntl.flock) for the git cache: a blocking one around fetches and builds, and
non-blocking "leases" that a process holds on a checkout for as long as it uses it.

flock locks belong to the open file: they vanish when the process exits or is killed, so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlproj.errors import SourceError

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
def locked(path: Path, what: str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the lock at `path` for the block, waiting at most `timeout` seconds for it."""
    deadline = time.monotonic() + timeout
    while True:
        fd = try_lock(path)
        if fd is not None:
            break
        if time.monotonic() >= deadline:
            raise SourceError(
                f"timed out after {timeout:.0f} s waiting for another mlproj "
                f"process to finish with {what} (lock {path})",
                hint="wait for it, or end it if it is stuck",
            )
        time.sleep(_POLL_S)
    try:
        yield
    finally:
        unlock(fd)
