"""Wait for an execution while forwarding SIGINT/SIGTERM/SIGHUP to all of its processes."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from mlproj._util.record import Record
from mlproj.proc import Execution

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    """Raised when a signal arrives while no command is running yet (e.g. an env build)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class Outcome(Record):
    exit_code: int
    signal: int | None  # the first signal we received, if any
    killed: bool  # True when the grace period ran out and the group was killed


class SignalState:
    """Collects signals; forwards them to the execution once there is one."""

    def __init__(self) -> None:
        self.execution: Execution | None = None
        self.received: int | None = None
        self.received_at: float | None = None
        self.count = 0  # a second signal means "stop now", whatever the grace period

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.received is None:
            self.received = signum
            self.received_at = time.monotonic()
        if self.execution is None:
            raise Interrupted(signum)
        self.execution.send_signal(signum)


@contextmanager
def forwarding_signals() -> Iterator[SignalState]:
    """Install our handlers for the duration of a run; restore the previous ones afterwards."""
    state = SignalState()
    previous = {sig: signal.getsignal(sig) for sig in FORWARDED}
    for sig in FORWARDED:
        signal.signal(sig, state.handle)
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def supervise(execution: Execution, state: SignalState, grace: float) -> Outcome:
    """Wait for `execution`; after a signal, give it `grace` seconds, then kill it."""
    state.execution = execution
    if state.received is not None:  # a signal arrived between launch and now
        execution.send_signal(state.received)
    killed = False
    while True:
        code = execution.wait(timeout=0.2)
        if code is not None:
            break
        if state.count >= 2 or (
            state.received_at is not None and not time.monotonic() - state.received_at <= grace
        ):  # `not <=`: a nan grace kills at once instead of never
            execution.kill()
            killed = True
            code = execution.wait()
            if code is not None:
                break
    return Outcome(exit_code=code, signal=state.received, killed=killed)
