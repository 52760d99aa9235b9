"""Tee a run's output: live to the terminal, and into files saved with the run."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import BinaryIO

from mlproj.proc import LogSink, Stream

LOG_ARTIFACT_DIR = "logs"
LOG_FILES: dict[Stream, str] = {"stdout": "stdout.txt", "stderr": "stderr.txt"}


class TeeSink:
    """A LogSink writing each stream to its log file and, unless quiet, to our own stream
    (or to `mirror` instead: a sweep's `--follow` prefixes each child's lines)."""

    def __init__(
        self, directory: Path, *, echo: bool = True, mirror: LogSink | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = {stream: directory / name for stream, name in LOG_FILES.items()}
        self._files: dict[Stream, BinaryIO] = {
            stream: path.open("ab") for stream, path in self.paths.items()
        }
        self._echo = echo
        self._mirror = mirror
        self._lock = threading.Lock()

    def write(self, stream: Stream, data: bytes, *, echo: bool = True) -> None:
        with self._lock:
            self._files[stream].write(data)
            self._files[stream].flush()
            if self._mirror is not None and echo:
                self._mirror.write(stream, data)
            elif self._echo and echo:
                out = sys.stdout if stream == "stdout" else sys.stderr
                try:
                    out.buffer.write(data)
                    out.flush()
                except (OSError, ValueError):
                    self._echo = False  # our terminal went away; keep the log files going

    def note(self, message: str, *, echo: bool = True) -> None:
        """A line of mlproj's own, kept in the stderr log and (if `echo`) shown on stderr."""
        self.write("stderr", f"mlproj: {message}\n".encode(), echo=echo)

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
