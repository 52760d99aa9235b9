"""What a sweep shows while it runs: a progress count and one status line per running child.

On a terminal the block of status lines is redrawn in place; otherwise (a pipe, a CI log) each
start and end is one plain line. With --follow, children's output is streamed, each line
prefixed with the child's number, and the progress is plain lines.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from mlproj.proc import Stream

_REDRAW = 0.5  # seconds between redraws of the status block
_LOCK = threading.Lock()  # children's output (pump threads) and our lines share the terminal


@dataclass(frozen=True)
class Running:
    index: int
    run_id: str
    params: Mapping[str, str]
    started: float  # time.monotonic()


def params_text(params: Mapping[str, str], names: Sequence[str]) -> str:
    return " ".join(f"{name}={params[name]}" for name in names if name in params)


class Display:
    def __init__(self, total: int, shown: Sequence[str], *, live: bool | None = None) -> None:
        self.total = total
        self.shown = list(shown)  # the parameter names that vary
        self.done = 0
        self.failed = 0
        self.stream: TextIO = sys.stderr
        if live is None:
            try:
                live = self.stream.isatty()
            except (AttributeError, ValueError):
                live = False
        self.live = live
        self._drawn = 0  # status lines currently on screen (live mode)
        self._drawn_at = 0.0

    def note(self, text: str) -> None:
        self._print(f"mlproj: {text}")

    def started(self, child: Running) -> None:
        if not self.live:
            self._print(
                f"mlproj: [{self.done}/{self.total}] started #{child.index} run {child.run_id} "
                f"{params_text(child.params, self.shown)}"
            )

    def ended(self, index: int, run_id: str | None, status: str, seconds: float, why: str) -> None:
        self.done += 1
        self.failed += status != "FINISHED"
        run = f"run {run_id}" if run_id else "no run"
        detail = f": {why}" if why else ""
        self._print(
            f"mlproj: [{self.done}/{self.total}] #{index} {run} {status} in {seconds:.1f}s{detail}"
        )

    def tick(self, running: Sequence[Running]) -> None:
        """Redraw the status block (live mode only)."""
        now = time.monotonic()
        if not self.live or (self._drawn and now - self._drawn_at < _REDRAW):
            return
        head = f"sweep: {self.done}/{self.total} done, {len(running)} running"
        lines = [head + (f", {self.failed} not finished" if self.failed else "")]
        for c in running:
            took = now - c.started
            lines.append(
                f"  #{c.index} {c.run_id[:8]} {took:5.0f}s  {params_text(c.params, self.shown)}"
            )
        with _LOCK:
            self._erase()
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()
            self._drawn = len(lines)
            self._drawn_at = now

    def close(self) -> None:
        with _LOCK:
            self._erase()
            self.stream.flush()

    def _print(self, line: str) -> None:
        with _LOCK:
            self._erase()  # the block is redrawn below on the next tick
            self.stream.write(line + "\n")
            self.stream.flush()

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")  # up N lines, clear to the end
            self._drawn = 0


class PrefixedEcho:
    """A LogSink for --follow: whole lines of a child's output, prefixed with `[#N] `."""

    def __init__(self, index: int) -> None:
        self.prefix = f"[#{index}] ".encode()
        self._partial: dict[Stream, bytes] = {"stdout": b"", "stderr": b""}

    def write(self, stream: Stream, data: bytes) -> None:
        text = self._partial[stream] + data
        *lines, self._partial[stream] = text.split(b"\n")
        if lines:
            self._emit(stream, b"".join(self.prefix + line + b"\n" for line in lines))

    def flush(self) -> None:
        for stream, rest in self._partial.items():
            if rest:
                self._emit(stream, self.prefix + rest + b"\n")
                self._partial[stream] = b""

    def _emit(self, stream: Stream, data: bytes) -> None:
        out = sys.stdout if stream == "stdout" else sys.stderr
        with _LOCK:
            try:
                out.buffer.write(data)
                out.flush()
            except (OSError, ValueError):
                pass  # our terminal went away; the child's log files still get everything
