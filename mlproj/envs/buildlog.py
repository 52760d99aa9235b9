"""The build log of an environment: every step, tool command line and tool output, time-stamped,
in one file; the same steps shown to the user through output.Progress (every manager, one way)."""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from mlproj import proc
from mlproj.errors import EnvError, RunError
from mlproj.output import Progress

_TAIL_LINES = 4
_TAIL_CHARS = 600


class BuildLog:
    """`with BuildLog(path, "conda") as build: build.step(...); build.run([...], what=...)`.

    Steps go to the log and to the user; details (solver records, tool output) only to the log,
    and the line a tool is at (`Downloading torch (740.1MiB)`) to the live progress line.
    Safe to call from installer threads.
    """

    def __init__(self, path: Path, label: str, *, progress: Progress | None = None) -> None:
        self.path = path
        self.progress = progress if progress is not None else Progress(label)
        self._lock = threading.Lock()
        self._started = time.monotonic()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(ok=exc is None)

    def step(self, text: str) -> None:
        """A phase of the build the user sees: `solving conda.yml`, `installing 3 packages`."""
        self.detail(f"== {text}")
        self.progress.phase(text)

    def detail(self, text: str) -> None:
        stamp = f"{time.monotonic() - self._started:7.2f}s"
        with self._lock:
            if self._file.closed:
                return
            for line in text.rstrip("\n").splitlines() or [""]:
                self._file.write(f"[{stamp}] {line}\n")
            self._file.flush()

    def run(
        self,
        argv: Sequence[str],
        *,
        what: str,
        where: str = "",
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        input: str | None = None,
    ) -> str:
        """Run a build tool: its command line and output into the log, each line it writes to
        stderr shown as the progress item. Its stdout, or EnvError with the tool's own reason:
        `<what> failed<where> (exit N): ...`."""
        self.detail(f"$ {shlex.join(argv)}" + (f"    # in {cwd}" if cwd is not None else ""))
        started = time.monotonic()
        try:
            done = proc.run_quiet(
                argv, cwd=cwd, env=env, input=input, on_stderr_line=self._tool_line
            )
        except RunError as exc:
            raise EnvError(exc.message, f"full log: {self.path}") from None
        except OSError as exc:
            raise EnvError(f"cannot start {argv[0]}: {exc.strerror}") from None
        self.detail(done.stdout)
        took = time.monotonic() - started
        self.detail(f"exit {done.returncode} after {took:.2f}s: {command_name(argv)}")
        if done.returncode != 0:
            reason = error_tail(done.stderr or done.stdout)
            raise EnvError(
                f"{what} failed{where} (exit {done.returncode}): {reason}", f"full log: {self.path}"
            )
        return done.stdout

    def tail(self, count: int = 5) -> list[str]:
        """The last `count` non-empty lines of the log, without their time stamps."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        text = [line.split("] ", 1)[-1] for line in lines if line.strip()]
        return text[-count:]

    def close(self, *, ok: bool = True) -> None:
        self.progress.close()
        with self._lock:
            if not self._file.closed:
                self._file.write(f"== {'done' if ok else 'failed'}\n")
                self._file.close()

    def _tool_line(self, line: str) -> None:
        self.detail(line)
        self.progress.item(line)


def command_name(argv: Sequence[str]) -> str:
    """The tool and its sub-commands (`uv pip install`), naming a step in the log's exit lines."""
    words = [Path(argv[0]).name]
    for word in argv[1:3]:
        if word.startswith("-") or "/" in word:
            break
        words.append(word)
    return " ".join(words)


def error_tail(output: str) -> str:
    """The part of a tool's output that says what went wrong, on one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.lower().startswith("error")), None)
    chosen = lines[start:] if start is not None else lines[-_TAIL_LINES:]
    text = " | ".join(chosen[: _TAIL_LINES * 2])
    return text if len(text) <= _TAIL_CHARS else text[: _TAIL_CHARS - 3] + "..."
