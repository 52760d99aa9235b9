"""The shared test helpers themselves: a wrong helper would let other tests pass for nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import WaitFailed, alive, wait_until, write_project


def test_wait_until_returns_the_first_true_value() -> None:
    calls: list[int] = []

    def third_time() -> str:
        calls.append(1)
        return "ready" if len(calls) == 3 else ""

    assert wait_until(third_time, 5, 0.01, what="the third call") == "ready"
    assert len(calls) == 3


def test_wait_until_gives_up_after_its_timeout_and_says_what_it_waited_for() -> None:
    started = time.monotonic()
    with pytest.raises(WaitFailed, match=r"timed out after 0\.2s waiting until the sky falls"):
        wait_until(lambda: False, 0.2, 0.05, what="the sky falls")
    assert 0.2 <= time.monotonic() - started < 5


def test_wait_until_stops_as_soon_as_its_process_exits() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('bye'); sys.exit(3)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.monotonic()
    with pytest.raises(WaitFailed, match=r"exited with code 3 \(stdout: 'bye\\n'.*before the file"):
        wait_until(lambda: False, 60, 0.05, what="the file appears", process=proc)
    assert time.monotonic() - started < 30


def test_alive_is_false_for_an_exited_child_even_before_it_is_reaped() -> None:
    assert alive(os.getpid())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    # not reaped (no wait yet): a zombie, which `alive` does not count
    wait_until(lambda: not alive(proc.pid), 30, what="the child exited")
    proc.wait()
    assert not alive(proc.pid)


def test_write_project_dedents_texts_and_keeps_bytes(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "p",
        """
        entry_points:
          main: {command: "python a/b.py"}
        """,
        {"a/b.py": "    print(1)\n", "data.bin": b"  \x00raw"},
    )
    assert (
        root / "MLproject"
    ).read_text() == '\nentry_points:\n  main: {command: "python a/b.py"}\n'
    assert (root / "a" / "b.py").read_text() == "print(1)\n"
    assert (root / "data.bin").read_bytes() == b"  \x00raw"
    write_project(root, files={"exact.txt": "  kept\n"}, dedent=False)
    assert (root / "exact.txt").read_text() == "  kept\n"
