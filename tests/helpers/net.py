"""Ports for the servers the tests start (always on 127.0.0.1)."""

from __future__ import annotations

import socket
import subprocess
from typing import Any

from tests.helpers.waiting import WaitFailed, wait_until


def free_port() -> int:
    """A port free right now; another process may take it before ours binds (callers retry)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[Any], timeout: float = 10.0) -> bool:
    """Whether PROCESS accepts connections on 127.0.0.1:PORT within TIMEOUT (False if it exits,
    e.g. because the port was taken, so that the caller can retry on another)."""

    def accepts() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_until(accepts, timeout, what=f"port {port} accepts connections", process=process)
    except WaitFailed:
        return False
    return True
