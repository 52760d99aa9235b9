"""What a conda build shows while it works: one step line (a spinner on a terminal, plain lines
otherwise) on stderr, and every detail in the build log file."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TextIO

_FRAMES = "|/-\\"
_TICK = 0.1


class BuildReporter:
    """Steps for the user, details for the log. Safe to call from installer threads."""

    def __init__(
        self,
        log: Path,
        *,
        label: str = "conda",
        stream: TextIO | None = None,
        interactive: bool | None = None,
    ) -> None:
        self.log = log
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        if interactive is None:
            interactive = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interactive = interactive
        self._lock = threading.Lock()
        self._step = ""
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._spinner: threading.Thread | None = None
        log.parent.mkdir(parents=True, exist_ok=True)
        self._file = log.open("a", encoding="utf-8")

    def __enter__(self) -> BuildReporter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(ok=exc is None)

    def step(self, text: str) -> None:
        self.detail(f"== {text}")
        with self._lock:
            self._step = text
        if not self._interactive:
            self._emit(f"mlproj: {self._label}: {text}\n")
        elif self._spinner is None:
            self._spinner = threading.Thread(target=self._spin, daemon=True)
            self._spinner.start()

    def detail(self, text: str) -> None:
        stamp = f"{time.monotonic() - self._started:7.2f}s"
        with self._lock:
            if self._file.closed:
                return
            for line in text.rstrip("\n").splitlines() or [""]:
                self._file.write(f"[{stamp}] {line}\n")
            self._file.flush()

    def tail(self, count: int = 5) -> list[str]:
        """The last `count` non-empty lines of the log, without their time stamps."""
        try:
            lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        text = [line.split("] ", 1)[-1] for line in lines if line.strip()]
        return text[-count:]

    def close(self, *, ok: bool = True) -> None:
        self._stop.set()
        if self._spinner is not None:
            self._spinner.join(timeout=1.0)
            self._spinner = None
            self._emit("\r\033[K")  # leave no half-drawn line behind
        with self._lock:
            if not self._file.closed:
                self._file.write(f"== {'done' if ok else 'failed'}\n")
                self._file.close()

    def _spin(self) -> None:
        frame = 0
        while not self._stop.wait(_TICK):
            with self._lock:
                text = self._step
            seconds = int(time.monotonic() - self._started)
            self._emit(f"\r\033[K{_FRAMES[frame % 4]} mlproj: {self._label}: {text} ({seconds}s)")
            frame += 1

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self._interactive = False
