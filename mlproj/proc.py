"""The only module that starts local processes: argv lists, process groups, output pumping.

It also defines what a started run is (`Execution`) and how its output is received (`LogSink`),
so that env managers, which start processes, and the run pipeline, which supervises them, share
one contract from below: this module imports no mlproj package but `errors`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

from mlproj.errors import RunError

Stream = Literal["stdout", "stderr"]


class LogSink(Protocol):
    """Receives the child's output as it arrives (the runner tees it to the terminal and logs)."""

    def write(self, stream: Stream, data: bytes) -> None: ...


class Execution(Protocol):
    """A started command: a local process group, or a container."""

    def wait(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if still running after `timeout` seconds."""
        ...

    def send_signal(self, sig: int) -> None:
        """Deliver `sig` to every process of the run (process group / container)."""
        ...

    def kill(self) -> None:
        """Forcefully stop every process of the run."""
        ...

    def close(self) -> None:
        """Release what the execution holds (remove a container...). Idempotent."""
        ...


@dataclass(frozen=True)
class LaunchRequest:
    command: str  # shell text, run with `bash -c`
    cwd: Path  # the project directory on the host
    env: Mapping[str, str]  # the full child environment (tracking variables included)
    sink: LogSink


_CHUNK = 64 * 1024


def _pump(pipe: IO[bytes], stream: Stream, sink: LogSink) -> None:
    with pipe:
        while True:
            data = pipe.read1(_CHUNK) if hasattr(pipe, "read1") else pipe.read(_CHUNK)
            if not data:
                return
            sink.write(stream, data)


class GroupProcess:
    """A child started as the leader of its own process group, its output pumped to a sink."""

    def __init__(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str], sink: LogSink):
        try:
            self._popen = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # own group: we forward signals, the tty does not
                close_fds=True,
            )
        except FileNotFoundError as exc:
            raise RunError(f"cannot start {argv[0]!r}: command not found") from exc
        except OSError as exc:
            raise RunError(f"cannot start {argv[0]!r}: {exc.strerror}") from exc
        self.pid = self._popen.pid
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._pumps = [
            threading.Thread(target=_pump, args=(self._popen.stdout, "stdout", sink), daemon=True),
            threading.Thread(target=_pump, args=(self._popen.stderr, "stderr", sink), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            code = self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        # Output may still be in flight; a grandchild holding the pipes must not hang us.
        for pump in self._pumps:
            pump.join(timeout=2.0)
        return code

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the whole group is already gone
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def close(self) -> None:
        if self._popen.poll() is None:
            self.kill()
            self._popen.wait()


def launch_shell(request: LaunchRequest) -> GroupProcess:
    """Run `request.command` with `bash -c` in a new process group."""
    bash = shutil.which("bash", path=request.env.get("PATH")) or shutil.which("bash") or "bash"
    env = dict(request.env)
    env.setdefault("PYTHONUNBUFFERED", "1")  # the child writes to a pipe; keep the tee live
    return GroupProcess([bash, "-c", request.command], request.cwd, env, request.sink)


_PR_SET_PDEATHSIG = 1


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec hook that has Linux kill the tool when we die, even by SIGKILL: a half-done
    env build must not keep writing into the cache behind our back."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)

    def hook() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


def run_quiet(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a helper tool to completion, capturing its output (for env builds, git, ...).

    The tool gets a process group of its own: when we are interrupted (Ctrl-C, SIGTERM), the
    whole group goes, including what the tool started itself (e.g. a package build backend).
    """
    try:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=_die_with_parent_hook(),
        )
    except FileNotFoundError as exc:
        raise RunError(f"cannot start {argv[0]!r}: command not found") from exc
    try:
        stdout, stderr = popen.communicate(input)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()
        raise
    return subprocess.CompletedProcess(list(argv), popen.returncode, stdout, stderr)
