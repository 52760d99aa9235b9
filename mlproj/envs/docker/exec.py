"""A run's container as an `Execution`: started detached, output streamed live, always removed.

Threads: one pumps the attached output into the sink, one blocks in the engine's `wait`, and
each `send_signal` runs in a short-lived thread of its own (it is called from a signal handler,
which must neither block nor re-enter the SDK's connection pool).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any

from mlproj.envs.docker import engine as docker_engine
from mlproj.envs.docker.settings import ContainerSettings
from mlproj.errors import EnvError, RunError
from mlproj.proc import LogSink

_PUMP_JOIN = 5.0  # seconds to let the last output arrive once the container has exited
_CLOSE_WAIT = 30.0  # seconds to wait for a killed container before removing it by force


class ContainerExecution:
    """Owns `client` (an engine connection of its own) and the attached output stream; close()
    closes both once the container is done with."""

    def __init__(self, client: Any, container: Any, sink: LogSink, *, keep: bool) -> None:
        self._client = client
        self._stream: Any = None
        self.id: str = container.id
        self._container = container
        self._sink = sink
        self._keep = keep
        self._code: int | None = None
        self._done = threading.Event()
        self._closed = False
        self._lock = threading.Lock()
        self._signallers: list[threading.Thread] = []
        self._pump: threading.Thread | None = None
        self._waiter: threading.Thread | None = None

    def start(self) -> None:
        """Attach first (so no early output is lost), then start, then watch for the exit."""
        stream = self._client.api.attach(
            self.id, stdout=True, stderr=True, stream=True, logs=True, demux=True
        )
        self._stream = stream
        self._pump = threading.Thread(target=self._pump_output, args=(stream,), daemon=True)
        self._pump.start()
        self._container.start()
        self._waiter = threading.Thread(target=self._wait_exit, daemon=True)
        self._waiter.start()

    def _pump_output(self, stream: Any) -> None:
        sink_ok = True
        try:
            for frame in stream:
                # Keep draining even if the sink fails: an unread stream would block the command.
                sink_ok = sink_ok and self._deliver(frame)
        except Exception:  # the engine closed the stream (container removed): nothing to save
            return

    def _deliver(self, frame: tuple[bytes | None, bytes | None]) -> bool:
        out, err = frame
        try:
            if out:
                self._sink.write("stdout", out)
            if err:
                self._sink.write("stderr", err)
        except Exception:
            return False
        return True

    def _wait_exit(self) -> None:
        try:
            result = self._client.api.wait(self.id, timeout=None)
            code = int(result.get("StatusCode", 1))
        except Exception:
            code = self._inspect_exit_code()
        self._code = code
        self._done.set()

    def _inspect_exit_code(self) -> int:
        try:
            return int(self._client.api.inspect_container(self.id)["State"]["ExitCode"])
        except Exception:
            return 137  # gone without a trace: it was killed

    # --- the Execution protocol ---------------------------------------------------------------

    def wait(self, timeout: float | None = None) -> int | None:
        if self._waiter is None:
            raise RunError("the container was never started")
        if not self._done.wait(timeout):
            return None
        self._join_pump()
        return self._code

    def _join_pump(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=_PUMP_JOIN)

    def send_signal(self, sig: int) -> None:
        thread = threading.Thread(target=self._kill, args=(sig,), daemon=True)
        self._signallers.append(thread)
        thread.start()

    def kill(self) -> None:
        self._kill(signal.SIGKILL)

    def _kill(self, sig: int) -> None:
        from docker.errors import APIError, NotFound

        # already stopped (409) or removed: nothing left to signal
        with contextlib.suppress(NotFound, APIError):
            self._client.api.kill(self.id, signal=int(sig))

    def stop_leftovers(self, grace: float) -> int:
        """Nothing to do: a container stops all of its processes when its command exits."""
        return 0

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for thread in self._signallers:
            thread.join(timeout=5.0)
        if self._waiter is not None and not self._done.is_set():
            self.kill()
            self._done.wait(_CLOSE_WAIT)
        self._join_pump()
        try:
            if not self._keep:
                self._remove()
        finally:
            self._disconnect()

    def _disconnect(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()  # shuts the socket down: a pump still reading (past _PUMP_JOIN) ends
            # docker-py leaves the attach's HTTP response to the caller, kept in the stream: it
            # holds the socket's file, which only closing it (or the GC) closes
            response = getattr(stream, "_response", None)
            if response is not None:
                response.close()
        self._client.close()

    def discard(self) -> None:
        """Close and remove, even with keep_container (for a container that never ran)."""
        self._keep = False
        self.close()

    def _remove(self) -> None:
        from docker.errors import APIError, NotFound

        try:
            self._client.api.remove_container(self.id, force=True, v=True)
        except NotFound:
            pass
        except APIError as exc:
            raise RunError(
                f"could not remove container {self.id[:12]}: {docker_engine.first_line(exc)}",
                f"remove it with `docker rm -f {self.id[:12]}`",
            ) from exc


def start_container(
    settings: ContainerSettings, argv: list[str], sink: LogSink
) -> ContainerExecution:
    """Create and start the container that runs `argv`, on an engine connection of its own that
    the execution closes (so does a failed start)."""
    from docker.errors import DockerException

    client = docker_engine.connect(streaming=True)
    try:
        execution = _create(client, settings, argv, sink)
    except BaseException:
        client.close()
        raise
    try:
        execution.start()
    except DockerException as exc:
        execution.discard()
        raise _start_error(exc, settings) from exc
    except BaseException:  # e.g. the runner's Interrupted: stop what we started, let it pass
        execution.discard()
        raise
    return execution


def _create(
    client: Any, settings: ContainerSettings, argv: list[str], sink: LogSink
) -> ContainerExecution:
    from docker.errors import DockerException

    kwargs = settings.create_kwargs(argv)
    try:
        container = client.containers.create(**kwargs)
    except DockerException as exc:
        raise _start_error(exc, settings) from exc
    return ContainerExecution(client, container, sink, keep=settings.keep)


def _start_error(exc: BaseException, settings: ContainerSettings) -> Exception:
    text = docker_engine.first_line(exc)
    if settings.gpus is not None and ("device driver" in text or "gpu" in text.lower()):
        return EnvError(
            f"the Docker engine cannot give the container GPUs ({settings.gpus}): {text}",
            "install the NVIDIA Container Toolkit on the engine's host, or drop --gpus",
        )
    return RunError(f"could not start a container from {settings.image}: {text}")
