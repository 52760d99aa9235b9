"""Tee a run's output: live to the terminal, and into files saved with the run."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import BinaryIO

from mlproj import output
from mlproj.proc import LogSink, Stream
from mlproj.tracking.runlogs import LOG_FILE_NAMES as LOG_FILES

# Space set aside beside the logs while a run lasts, given back when the disk fills up, so that
# the run's final status and tags can still be written to a store on that disk.
RESERVE_NAME = ".mlproj-reserve"
RESERVE_BYTES = 64 * 1024


class TeeSink:
    """A LogSink writing each stream to its log file and, unless quiet, to our own stream
    (or to `mirror` instead: a sweep's `--follow` prefixes each child's lines).

    Writing the files may fail (a full disk, a removed directory): the run goes on, the
    terminal still gets everything, and `truncated` says where the files stop and why.
    """

    def __init__(
        self, directory: Path, *, echo: bool = True, mirror: LogSink | None = None
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.paths = {stream: directory / name for stream, name in LOG_FILES.items()}
        self._files: dict[Stream, BinaryIO] = {
            stream: path.open("ab") for stream, path in self.paths.items()
        }
        self._written: dict[Stream, int] = dict.fromkeys(LOG_FILES, 0)
        self._echo = echo
        self._mirror = mirror
        self._lock = threading.Lock()
        self.truncated: str | None = None  # why the log files stop early, if they do
        self._reserve = directory / RESERVE_NAME
        self._hold_reserve()

    def _hold_reserve(self) -> None:
        try:
            fd = os.open(self._reserve, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError:
            return
        try:
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except OSError:  # not even that much room: nothing to hold
            self._give_back_reserve()
        finally:
            os.close(fd)

    def _give_back_reserve(self) -> None:
        with contextlib.suppress(OSError):
            self._reserve.unlink()

    def write(self, stream: Stream, data: bytes, *, echo: bool = True) -> None:
        with self._lock:
            self._write_file(stream, data)
            if self._mirror is not None and echo:
                self._mirror.write(stream, data)
            elif self._echo and echo:
                out = sys.stdout if stream == "stdout" else sys.stderr
                try:
                    out.buffer.write(data)
                    out.flush()
                except (OSError, ValueError):
                    self._echo = False  # our terminal went away; keep the log files going

    def _write_file(self, stream: Stream, data: bytes) -> None:
        if self.truncated is not None:
            return
        try:
            self._files[stream].write(data)
            self._files[stream].flush()
            self._written[stream] += len(data)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            sizes = ", ".join(f"{LOG_FILES[s]} after {n} bytes" for s, n in self._written.items())
            self.truncated = f"{reason}: the saved logs stop there ({sizes})"
            self._give_back_reserve()
            for handle in self._files.values():
                with contextlib.suppress(OSError, ValueError):
                    handle.close()

    def named_paths(self) -> dict[str, Path]:
        """The log files by their artifact name (stdout.txt, stderr.txt)."""
        return {LOG_FILES[stream]: path for stream, path in self.paths.items()}

    def note(self, message: str, *, echo: bool = True) -> None:
        """A line of mlproj's own, kept in the stderr log and (if `echo`) shown as a note."""
        line = f"mlproj: {message}\n".encode()
        if self._mirror is not None:  # a sweep's child: its mirror shows it, prefixed
            self.write("stderr", line, echo=echo)
            return
        self.write("stderr", line, echo=False)
        if self._echo and echo:
            output.note(message)

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                with contextlib.suppress(OSError, ValueError):
                    handle.close()
            self._give_back_reserve()
