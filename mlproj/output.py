"""mlproj's own voice on stderr: one place for its messages, the verbosity chosen by `-v`/`-q`,
colour only on a terminal and never with NO_COLOR, and the progress of long steps.

Lines look like `mlproj: <note>`, `mlproj: warning: <text>`, `mlproj: error: <text>`, and with
`-v` also `mlproj: debug: <text>`. `-q` hides notes and progress; warnings and errors stay.

Every message is also a record of the logger named "mlproj" once a program has given that logger
a handler (an application embedding mlproj, a test). The logging module itself is not imported
otherwise: it costs about 10 ms, a sixth of a warm run's whole budget.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import logging

LOGGER_NAME = "mlproj"
QUIET, NORMAL, VERBOSE = -1, 0, 1
# logging's level numbers, without importing it
DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50

_verbosity = NORMAL
_COLOURS = {"warning": "33", "error": "31", "debug": "2"}  # yellow, red, dim


def configure(verbosity: int) -> None:
    """Set the verbosity for this process: QUIET, NORMAL or VERBOSE (from `-q` / `-v`)."""
    global _verbosity
    _verbosity = max(QUIET, min(VERBOSE, verbosity))


def verbosity() -> int:
    return _verbosity


def logger() -> logging.Logger:
    """The "mlproj" logger: give it a handler to receive every message as a record."""
    import logging

    return logging.getLogger(LOGGER_NAME)


def note(message: str) -> None:
    """Something the user may like to know (hidden by `-q`)."""
    _emit(INFO, "", message)


def warning(message: str) -> None:
    _emit(WARNING, "warning", message)


def error(message: str) -> None:
    _emit(ERROR, "error", message)


def important(message: str) -> None:
    """A plain `mlproj: <message>` line that even `-q` shows (interrupted, internal error)."""
    _emit(CRITICAL, "", message)


def debug(message: str) -> None:
    """Detail shown only with `-v`."""
    _emit(DEBUG, "debug", message)


def colour_on(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    return is_tty(stream)


def is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, kind: str, stream: TextIO) -> str:
    code = _COLOURS.get(kind)
    return f"\x1b[{code}m{text}\x1b[0m" if code and colour_on(stream) else text


def _threshold() -> int:
    return {QUIET: WARNING, NORMAL: INFO, VERBOSE: DEBUG}[_verbosity]


def _emit(level: int, kind: str, message: str) -> None:
    if "logging" in sys.modules:
        _to_logger(level, message)
    if level < _threshold():
        return
    stream = sys.stderr  # looked up each time: tests and detached runs swap it
    prefix = paint(f"{kind}:", kind, stream) + " " if kind else ""
    with _DRAW_LOCK:
        if _ACTIVE is not None:
            _ACTIVE.clear_line()
        _write(stream, f"mlproj: {prefix}{message}\n")


def _to_logger(level: int, message: str) -> None:
    log = logger()
    if log.handlers and log.isEnabledFor(level):
        log.log(level, message)


def _write(stream: TextIO, text: str) -> bool:
    try:
        stream.write(text)
        stream.flush()
        return True
    except (OSError, ValueError):
        return False


_DRAW_LOCK = threading.RLock()
_ACTIVE: Progress | None = None  # the progress line on screen, cleared before other lines


# -- progress ------------------------------------------------------------------------------

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_TICK_S = 0.1


class Progress:
    """What a long task (an env build) is doing: a phase, and the item it is at.

    On a terminal: one live line, `⠹ mlproj: conda: installing 12 packages: numpy 7.1 MiB (4s)`,
    gone at the end. Elsewhere: one line per phase, no items (logs stay short). `-q` shows
    nothing; `-v` also writes each item as a debug line. Safe to call from worker threads.
    """

    def __init__(
        self, label: str, *, stream: TextIO | None = None, interactive: bool | None = None
    ) -> None:
        self.label = label
        self._stream = stream
        self._interactive = interactive
        self._phase = ""
        self._item = ""
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._spinner: threading.Thread | None = None
        self._drawn = False

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stderr

    @property
    def interactive(self) -> bool:
        if self._interactive is None:
            self._interactive = is_tty(self.stream)
        return self._interactive

    def phase(self, text: str) -> None:
        """A new phase: `solving conda.yml`, `installing 3 requirements`."""
        with _DRAW_LOCK:
            self._phase, self._item = text, ""
        if _verbosity == QUIET:
            return
        if not self.interactive:
            self._print(f"mlproj: {self.label}: {text}\n")
        else:
            self._start_spinner()

    def item(self, text: str) -> None:
        """What the phase is at now: a package being downloaded, built or installed."""
        text = text.strip()
        if not text:
            return
        with _DRAW_LOCK:
            self._item = text
        if _verbosity == VERBOSE:
            debug(f"{self.label}: {text}")

    def close(self) -> None:
        self._stop.set()
        if self._spinner is not None:
            self._spinner.join(timeout=1.0)
            self._spinner = None
        self._stop = threading.Event()  # the same Progress may show a later task
        global _ACTIVE
        with _DRAW_LOCK:
            self.clear_line()
            if _ACTIVE is self:
                _ACTIVE = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clear_line(self) -> None:
        """Take the live line off the screen (another line is about to be written)."""
        if self._drawn:
            _write(self.stream, "\r\x1b[K")
            self._drawn = False

    def _start_spinner(self) -> None:
        global _ACTIVE
        if self._spinner is None and not self._stop.is_set():
            _ACTIVE = self
            self._spinner = threading.Thread(target=self._spin, daemon=True)
            self._spinner.start()

    def _spin(self) -> None:
        frame = 0
        while not self._stop.wait(_TICK_S):
            with _DRAW_LOCK:
                seconds = int(time.monotonic() - self._started)
                doing = f"{self._phase}: {self._item}" if self._item else self._phase
                width = _terminal_width() - 20
                if len(doing) > width > 10:
                    doing = doing[: width - 1] + "…"
                spinner = _FRAMES[frame % len(_FRAMES)]
                shown = f"\r\x1b[K{spinner} mlproj: {self.label}: {doing} ({seconds}s)"
                self._drawn = _write(self.stream, shown)
                if not self._drawn:
                    return
            frame += 1

    def _print(self, text: str) -> None:
        with _DRAW_LOCK:
            _write(self.stream, text)


def _terminal_width() -> int:
    try:
        return os.get_terminal_size(2).columns
    except OSError:
        return 100


def human_size(size: float) -> str:
    """`812 B`, `3.4 KiB`, `12.0 MiB`, `1.2 GiB`."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
