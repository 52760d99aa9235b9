"""Run one step of an environment build, keeping its full output in the build log."""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlproj import proc
from mlproj.errors import EnvError

_TAIL_LINES = 4
_TAIL_CHARS = 600


def run_logged(
    argv: Sequence[str],
    *,
    log: Path,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> str:
    """Run `argv`, append its command line and output to `log`; its stdout, or EnvError."""
    started = time.monotonic()
    done = proc.run_quiet(argv, cwd=cwd, env=env)
    elapsed = time.monotonic() - started
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"\n$ {shlex.join(argv)}\n")
        if cwd is not None:
            fh.write(f"# in {cwd}\n")
        fh.write(done.stdout)
        fh.write(done.stderr)
        fh.write(f"# exit {done.returncode} after {elapsed:.2f}s\n")
    if done.returncode != 0:
        raise EnvError(
            f"{what} failed: {error_tail(done.stderr or done.stdout)}", f"full log: {log}"
        )
    return done.stdout


def note(log: Path, text: str) -> None:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"# {text}\n")


def error_tail(output: str) -> str:
    """The part of a tool's output that says what went wrong, on one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(lines) if line.startswith("error")), None)
    chosen = lines[start:] if start is not None else lines[-_TAIL_LINES:]
    text = " | ".join(chosen[: _TAIL_LINES * 2])
    return text if len(text) <= _TAIL_CHARS else text[: _TAIL_CHARS - 3] + "..."
