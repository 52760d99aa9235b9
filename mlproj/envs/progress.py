"""Progress of long environment builds on stderr: a spinner on a terminal, plain lines otherwise."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class Progress:
    """`with progress.step("installing 3 requirements"): ...` shows what a build is doing."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    def note(self, text: str) -> None:
        self._write(f"mlproj: {text}\n")

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        started = time.monotonic()
        if not self.tty:
            self.note(f"{text} ...")
            yield
            return
        stop = threading.Event()
        spinner = threading.Thread(target=self._spin, args=(text, started, stop), daemon=True)
        spinner.start()
        ok = False
        try:
            yield
            ok = True
        finally:
            stop.set()
            spinner.join()
            mark = "done" if ok else "failed"
            self._write(f"\r\x1b[Kmlproj: {text} ... {mark} ({time.monotonic() - started:.1f}s)\n")

    def _spin(self, text: str, started: float, stop: threading.Event) -> None:
        frame = 0
        while not stop.wait(0.1):
            elapsed = time.monotonic() - started
            self._write(f"\r\x1b[K{_FRAMES[frame % len(_FRAMES)]} mlproj: {text} ({elapsed:.0f}s)")
            frame += 1

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.stream.write(text)
            self.stream.flush()
