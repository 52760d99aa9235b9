"""The only module that starts local processes: argv lists, process groups, output pumping.

It also defines what a started run is (`Execution`) and how its output is received (`LogSink`),
so that env managers, which start processes, and the run pipeline, which supervises them, share
one contract from below: this module imports no mlproj package but `errors`.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Literal, Protocol

from mlproj._util import prctl
from mlproj._util.record import Record
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

    def stop_leftovers(self, grace: float) -> int:
        """After the command ended: stop what it left running (background jobs), SIGTERM then,
        after `grace` seconds, SIGKILL. Returns how many processes were left."""
        ...

    def close(self) -> None:
        """Release what the execution holds (remove a container...). Idempotent."""
        ...


class LaunchRequest(Record):
    command: str  # shell text, run with `bash -c`
    cwd: Path  # the project directory on the host
    env: Mapping[str, str]  # the full child environment (tracking variables included)
    sink: LogSink


_CHUNK = 64 * 1024


def _pump(pipe: IO[bytes], stream: Stream, sink: LogSink) -> None:
    """Drain `pipe` into `sink` until EOF. A sink that fails (a full disk...) loses that chunk,
    but the pipe keeps being drained: a child must never block or die of SIGPIPE because of us."""
    with pipe:
        while True:
            data = pipe.read1(_CHUNK) if hasattr(pipe, "read1") else pipe.read(_CHUNK)
            if not data:
                return
            with contextlib.suppress(Exception):
                sink.write(stream, data)


# Kills process group $1 unless told "done" on stdin: stdin is a pipe whose other end only the
# mlproj process holds, so EOF without "done" means mlproj died (SIGKILL, OOM killer).
_WATCHDOG_SCRIPT = (
    'read line; [ "$line" = done ] && exit 0; '
    'kill -TERM -"$1" 2>/dev/null || exit 0; i=0; '
    'while [ "$i" -lt "$2" ] && kill -0 -"$1" 2>/dev/null; do sleep 0.2; i=$((i + 1)); done; '
    'kill -KILL -"$1" 2>/dev/null; exit 0'
)


class GroupWatchdog:
    """Takes a process group down with us if we are killed without a chance to clean up.

    PR_SET_PDEATHSIG only reaches the group's leader; a training script or a package build
    backend below it would live on. The watchdog is a tiny `sh` in a session of its own that
    waits on a pipe; when this process dies, the kernel closes the pipe and the watchdog sends
    SIGTERM to the whole group, then SIGKILL after the grace period.
    """

    def __init__(self, pgid: int, grace: float = 5.0) -> None:
        read_end, self._write_end = os.pipe()
        steps = max(1, int(grace / 0.2))
        try:
            self._popen: subprocess.Popen[bytes] | None = subprocess.Popen(
                ["sh", "-c", _WATCHDOG_SCRIPT, "mlproj-watchdog", str(pgid), str(steps)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C at the terminal must not stop it
                close_fds=True,
            )
        except OSError:  # no sh: the group is then only as safe as PR_SET_PDEATHSIG makes it
            self._popen = None
        else:
            _OWN_CHILDREN.add(self._popen.pid)
        finally:
            os.close(read_end)

    def release(self) -> None:
        """We handled the group ourselves: let the watchdog exit without killing. Idempotent."""
        if self._write_end < 0:
            return
        with contextlib.suppress(OSError):
            os.write(self._write_end, b"done\n")
        os.close(self._write_end)
        self._write_end = -1
        if self._popen is not None and _exits_within(self._popen, 5):  # woken at its exit
            self._popen.wait()
            _OWN_CHILDREN.discard(self._popen.pid)


def group_alive(pgid: int) -> bool:
    """Is any process of group `pgid` still running?"""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stat_fields(pid: str) -> list[str] | None:
    """/proc/PID/stat after the command name: state, ppid, pgrp, ... (None if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            raw = handle.read()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2 :].decode("ascii", "replace").split()


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of group `pgid` (Linux /proc; empty elsewhere)."""
    members = []
    for entry in _proc_pids():
        fields = _stat_fields(entry)
        if fields and fields[0] != "Z" and fields[2] == str(pgid):
            members.append(int(entry))
    return members


def _proc_pids() -> list[str]:
    try:
        return [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []


def stop_group(pgid: int, grace: float) -> int:
    """SIGTERM every process left in group `pgid`, SIGKILL after `grace` s; how many were left."""
    left = len(group_members(pgid)) if group_alive(pgid) else 0
    if not left:
        return 0
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return left


def become_subreaper() -> bool:
    """Have orphaned descendants (daemons that escaped with setsid and a double fork) become our
    children instead of init's, so that they can be found and stopped when a run ends."""
    call = prctl.resolve()
    return call is not None and call(prctl.PR_SET_CHILD_SUBREAPER, 1) == 0


# Children we started ourselves (and wait for); anything else that is our child was adopted.
_OWN_CHILDREN: set[int] = set()


def adopted_orphans() -> list[tuple[int, str]]:
    """Processes re-parented to us as subreaper and still running: (pid, command line).
    Those already dead (e.g. a background job of the run's group, orphaned when its parent
    exited and then stopped with the group) are reaped, not reported."""
    me = str(os.getpid())
    children = _children()
    found = []
    for entry in _proc_pids() if children is None else children:
        fields = _stat_fields(entry)
        if not fields or fields[1] != me or int(entry) in _OWN_CHILDREN:
            continue
        if fields[0] == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(entry), os.WNOHANG)
            continue
        found.append((int(entry), _cmdline(entry)))
    return found


def _children() -> list[str] | None:
    """Our direct children, from /proc/self/task/*/children: a few reads, where scanning
    every process's stat costs ~25 us per process on the machine (2 ms here, tens of ms on a
    busy login node) at the end of every run. None where the kernel does not provide the file
    (CONFIG_PROC_CHILDREN), so that the caller scans."""
    if not os.path.exists(f"/proc/self/task/{os.getpid()}/children"):
        return None
    found: list[str] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children", "rb") as handle:
                found += handle.read().decode("ascii").split()
        except OSError:  # the thread ended since the listing
            continue
    return found


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()[:200]
    except OSError:
        return "?"


def stop_orphans(orphans: Sequence[tuple[int, str]], grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` s, adopted processes; reap them (no zombies left)."""
    pids = [pid for pid, _ in orphans]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    pending = set(pids)
    while pending:
        for pid in list(pending):
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            pending.discard(pid)
        if not pending:
            break
        if time.monotonic() >= deadline:
            for pid in pending:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid in pending:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, 0)
            break
        time.sleep(0.05)


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
        _OWN_CHILDREN.add(self.pid)
        self._watchdog = GroupWatchdog(self.pid)
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._pumps = [
            threading.Thread(target=_pump, args=(self._popen.stdout, "stdout", sink), daemon=True),
            threading.Thread(target=_pump, args=(self._popen.stderr, "stderr", sink), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def wait(self, timeout: float | None = None) -> int | None:
        if timeout is not None and not _exits_within(self._popen, timeout):
            return None
        code = self._popen.wait()
        # Output may still be in flight. Background processes of the group hold the pipes
        # open: stop_leftovers stops them, then drains; waiting for them here only cost time.
        if not (group_alive(self.pid) and group_members(self.pid)):
            self._drain()
        return code

    def _drain(self, seconds: float = 2.0) -> None:
        """Let the pumps reach the end of the pipes, `seconds` at most in all (a process that
        escaped the group may hold them open)."""
        deadline = time.monotonic() + seconds
        for pump in self._pumps:
            pump.join(timeout=max(0.0, deadline - time.monotonic()))

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # the whole group is already gone
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def stop_leftovers(self, grace: float) -> int:
        left = stop_group(self.pid, grace)
        self._drain()  # the leftovers held the pipes; now they are closed
        return left

    def close(self) -> None:
        if self._popen.poll() is None:
            self.kill()
            self._popen.wait()
        self._drain()  # after a kill too: the last lines reach the sink before it is closed
        if not group_alive(self.pid):
            self._watchdog.release()
            _OWN_CHILDREN.discard(self.pid)


def _exits_within(popen: subprocess.Popen[bytes], timeout: float) -> bool:
    """Has the child exited, or does it within `timeout` seconds?

    `Popen.wait(timeout)` polls with sleeps growing to 50 ms, which every run would pay as
    latency after its command ends; a pidfd (Linux >= 5.3) wakes us at the exit itself.
    """
    if popen.poll() is not None:
        return True
    try:
        pidfd = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # another system, or an older kernel: poll as before
        try:
            popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(pidfd)


def _on_path(name: str, path: str) -> str | None:
    """The first executable `name` in the directories of `path` (shutil.which, whose import
    would cost every run more than this loop)."""
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder, name)
        if folder and os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


def launch_shell(request: LaunchRequest) -> GroupProcess:
    """Run `request.command` with `bash -c` in a new process group."""
    bash = (
        _on_path("bash", request.env.get("PATH", ""))
        or _on_path("bash", os.environ.get("PATH", ""))
        or "bash"
    )
    env = dict(request.env)
    env.setdefault("PYTHONUNBUFFERED", "1")  # the child writes to a pipe; keep the tee live
    return GroupProcess([bash, "-c", request.command], request.cwd, env, request.sink)


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec hook that has Linux kill the tool when we die, even by SIGKILL: a half-done
    env build must not keep writing into the cache behind our back."""
    call = prctl.resolve()
    if call is None:
        return None

    def hook() -> None:
        call(prctl.PR_SET_PDEATHSIG, signal.SIGKILL)

    return hook


def run_quiet(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    on_stderr_line: Callable[[str], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a helper tool to completion, capturing its output (for env builds, git, ...).

    The tool gets a process group of its own: when we are interrupted (Ctrl-C, SIGTERM), the
    whole group goes, including what the tool started itself (e.g. a package build backend).
    `on_stderr_line` sees each line the tool writes to stderr as it comes (build progress).
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
    _OWN_CHILDREN.add(popen.pid)
    watchdog = GroupWatchdog(popen.pid, grace=0.2)  # a build backend must not outlive us
    try:
        if on_stderr_line is None:
            stdout, stderr = popen.communicate(input)
        else:
            stdout, stderr = _communicate_by_line(popen, input, on_stderr_line)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGKILL)
        popen.wait()
        raise
    finally:
        if not group_alive(popen.pid):
            watchdog.release()
        _OWN_CHILDREN.discard(popen.pid)
    return subprocess.CompletedProcess(list(argv), popen.returncode, stdout, stderr)


def _communicate_by_line(
    popen: subprocess.Popen[str], input: str | None, on_line: Callable[[str], None]
) -> tuple[str, str]:
    """communicate(), with stderr read line by line in a thread and each line handed over."""
    assert popen.stdout is not None and popen.stderr is not None
    err_lines: list[str] = []

    def read_stderr(stream: IO[str]) -> None:
        for line in stream:
            err_lines.append(line)
            with contextlib.suppress(Exception):  # a display problem must not break the build
                on_line(line.rstrip("\n"))

    reader = threading.Thread(target=read_stderr, args=(popen.stderr,), daemon=True)
    reader.start()
    if popen.stdin is not None:
        with contextlib.suppress(BrokenPipeError):
            popen.stdin.write(input or "")
            popen.stdin.close()
    with popen.stdout:
        stdout = popen.stdout.read()
    popen.wait()
    reader.join()
    popen.stderr.close()
    return stdout, "".join(err_lines)
