"""Two independent steps at once: `first` in a thread, `second` here, each waited for to its end.

Both always finish before this returns or raises, so nothing keeps running (or writing) after a
failure; when both fail, the error raised is `first`'s (what doing them one after the other
would have reported), unless `second` was interrupted (Ctrl-C wins).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def run_both(first: Callable[[], A], second: Callable[[], B]) -> tuple[A, B]:
    got: list[A] = []
    failed: list[BaseException] = []

    def run_first() -> None:
        try:
            got.append(first())
        except BaseException as exc:  # handed to the calling thread below
            failed.append(exc)

    worker = threading.Thread(target=run_first, name="mlproj-step", daemon=True)
    worker.start()
    try:
        value = second()
    except BaseException as exc:
        worker.join()
        if failed and not isinstance(exc, KeyboardInterrupt):
            raise failed[0] from None
        raise
    worker.join()
    if failed:
        raise failed[0]
    return got[0], value
