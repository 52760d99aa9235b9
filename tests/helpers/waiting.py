"""The one polling loop of the tests: bounded in time, with a message that says what failed."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class WaitFailed(AssertionError):
    """What `wait_until` waited for did not happen in time (or its process exited first)."""


def wait_until(
    predicate: Callable[[], T],
    timeout: float = 30.0,
    interval: float = 0.05,
    *,
    what: str,
    process: subprocess.Popen[Any] | None = None,
) -> T:
    """Call PREDICATE every INTERVAL seconds until it returns a true value, and return that value.

    Fails with WaitFailed ("timed out after 30s waiting until WHAT") after TIMEOUT seconds, or as
    soon as PROCESS (the process expected to bring the condition about) has exited, with its exit
    code and captured output. The predicate may raise to give up early with its own message.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise WaitFailed(f"{_exited(process)} before {what}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitFailed(f"timed out after {timeout:g}s waiting until {what}")
        time.sleep(min(interval, remaining))


def _exited(process: subprocess.Popen[Any]) -> str:
    message = f"the process {process.args!r} exited with code {process.returncode}"
    if process.stdout is None and process.stderr is None:
        return message
    try:
        out, err = process.communicate(timeout=10)
    except (subprocess.TimeoutExpired, ValueError):  # ValueError: its pipes were read already
        return message
    return f"{message} (stdout: {_tail(out)!r}, stderr: {_tail(err)!r})"


def _tail(output: str | bytes | None, limit: int = 2000) -> str | bytes | None:
    return None if output is None else output[-limit:]
