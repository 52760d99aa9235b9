"""The local backend of a sweep: planned runs executed as child runs, `jobs` at a time.

Everything happens on the main thread: start children, poll them, forward signals. Each child
is its own process group with its own log files (RunExecution); a signal to the sweep goes to
every running child, and after the grace period whatever is left is killed.
"""

from __future__ import annotations

import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mlproj.envs.base import PreparedEnv
from mlproj.errors import MlprojError
from mlproj.proc import Execution, LogSink
from mlproj.run import runner
from mlproj.run.supervise import Outcome, SignalState
from mlproj.sweep.display import Display, PrefixedEcho, Running
from mlproj.sweep.plan import PlannedRun

_POLL = 0.1  # seconds between looks at the running children


@dataclass(frozen=True)
class ChildResult:
    index: int
    params: Mapping[str, str]
    run_id: str | None  # None: never started (the sweep was stopped first)
    status: str  # FINISHED / FAILED / KILLED, or NOT STARTED
    seconds: float
    error: str = ""


class _Live:
    """A started child: its run, its processes, the signal sent to it (if any)."""

    def __init__(
        self,
        run: PlannedRun,
        attempt: runner.RunExecution,
        execution: Execution,
        echo: PrefixedEcho | None,
    ) -> None:
        self.run, self.attempt, self.execution, self.echo = run, attempt, execution, echo
        self.started = time.monotonic()
        self.signalled: int | None = None
        self.killed = False

    def signal(self, sig: int) -> None:
        if self.signalled is None:
            self.signalled = sig
        self.execution.send_signal(sig)

    def view(self) -> Running:
        return Running(self.run.index, self.attempt.info.run_id, self.run.params, self.started)


class _Fanout:
    """An Execution to SignalState: a signal to the sweep goes to every running child."""

    def __init__(self) -> None:
        self.running: dict[int, _Live] = {}

    def send_signal(self, sig: int) -> None:
        for live in list(self.running.values()):
            live.signal(sig)

    def kill(self) -> None:
        for live in list(self.running.values()):
            live.killed = True
            live.execution.kill()

    def wait(self, timeout: float | None = None) -> int | None:
        return None

    def stop_leftovers(self, grace: float) -> int:
        return 0  # each child's own execution stops its leftovers

    def close(self) -> None:
        pass


# (planned run, where to mirror its output or None) -> its created child run, ready to launch
CreateChild = Callable[[PlannedRun, LogSink | None], runner.RunExecution]


class LocalPool:
    def __init__(
        self,
        env: PreparedEnv,
        create_child: CreateChild,
        display: Display,
        *,
        jobs: int,
        grace: float,
        fail_fast: bool,
        follow: bool,
    ) -> None:
        self.env, self.create_child, self.display = env, create_child, display
        self.jobs, self.grace, self.fail_fast, self.follow = jobs, grace, fail_fast, follow
        self._fanout = _Fanout()
        self._stop_at: float | None = None  # when we began stopping (signal or --fail-fast)

    def execute(self, runs: Sequence[PlannedRun], signals: SignalState) -> list[ChildResult]:
        """Run every planned run (unless stopped); one result per run, in sweep order."""
        signals.execution = self._fanout
        pending = deque(runs)
        results: dict[int, ChildResult] = {}
        running = self._fanout.running
        try:
            while running or pending:
                if signals.received is not None and self._stop_at is None:
                    self._stop_at = signals.received_at or time.monotonic()
                if self._stop_at is not None and not running:
                    break  # stopped: what is pending never starts
                while pending and len(running) < self.jobs and self._stop_at is None:
                    self._start(pending.popleft(), running, results, signals)
                self._reap(running, results)
                self.display.tick([live.view() for live in running.values()])
                if running:
                    time.sleep(_POLL)
        finally:
            for index, live in list(running.items()):  # only on an unexpected error
                live.execution.kill()
                results[index] = self._end(live, None, RuntimeError("the sweep stopped"))
                del running[index]
            self.display.close()
        for run in runs:
            if run.index not in results:
                results[run.index] = ChildResult(run.index, run.params, None, "NOT STARTED", 0.0)
        return [results[run.index] for run in runs]

    def _start(
        self,
        run: PlannedRun,
        running: dict[int, _Live],
        results: dict[int, ChildResult],
        signals: SignalState,
    ) -> None:
        echo = PrefixedEcho(run.index) if self.follow else None
        attempt = self.create_child(run, echo)
        started = time.monotonic()
        try:
            execution = attempt.launch(self.env)
        except BaseException as exc:  # the run exists: it ends FAILED whatever went wrong
            status = attempt.finish(None, exc)
            if not isinstance(exc, MlprojError | OSError):
                raise
            why = exc.one_line() if isinstance(exc, MlprojError) else str(exc)
            results[run.index] = ChildResult(
                run.index, run.params, attempt.info.run_id, status, time.monotonic() - started, why
            )
            self.display.ended(run.index, attempt.info.run_id, status, 0.0, why)
            self._after_failure(status)
            return
        live = _Live(run, attempt, execution, echo)
        running[run.index] = live
        if signals.received is not None:  # arrived while this one was being created
            live.signal(signals.received)
        self.display.started(live.view())

    def _reap(self, running: dict[int, _Live], results: dict[int, ChildResult]) -> None:
        overdue = self._stop_at is not None and time.monotonic() - self._stop_at > self.grace
        for index, live in list(running.items()):
            code = live.execution.wait(timeout=0)
            if code is None:
                if overdue and not live.killed:
                    live.killed = True
                    live.execution.kill()
                continue
            outcome = Outcome(exit_code=code, signal=live.signalled, killed=live.killed)
            results[index] = self._end(live, outcome, None)
            del running[index]
            self._after_failure(results[index].status)

    def _end(
        self, live: _Live, outcome: Outcome | None, error: BaseException | None
    ) -> ChildResult:
        try:
            live.attempt.stopped(live.execution, outcome, self.grace)
        finally:
            if live.echo is not None:
                live.echo.flush()
            status = live.attempt.finish(outcome, error)
        seconds = time.monotonic() - live.started
        why = ""
        if outcome is not None and outcome.signal is not None:
            why = signal.Signals(outcome.signal).name
        elif outcome is not None and outcome.exit_code != 0:
            why = f"exit code {outcome.exit_code}"
        self.display.ended(live.run.index, live.attempt.info.run_id, status, seconds, why)
        return ChildResult(
            live.run.index, live.run.params, live.attempt.info.run_id, status, seconds, why
        )

    def _after_failure(self, status: str) -> None:
        """--fail-fast: the first failure stops the sweep (running children get SIGTERM)."""
        if status == "FAILED" and self.fail_fast and self._stop_at is None:
            self.display.note("a run failed: stopping the sweep (--fail-fast)")
            self._stop_at = time.monotonic()
            self._fanout.send_signal(signal.SIGTERM)
