"""Linux's prctl(2), for the two process settings mlproj needs, without importing `ctypes`.

Every run becomes a child subreaper, and importing the ctypes package (a class for each C type)
cost a warm run about 6 M instructions, a tenth of its own start-up. One call with integer
arguments needs only CPython's `_ctypes` core: find the symbol, call it. Where that core lacks
these functions (another Python implementation), the ctypes package does the same call.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

Prctl = Callable[[int, int], int]


def resolve() -> Prctl | None:
    """prctl as `call(option, arg)` -> 0 on success, -1 on failure; None off Linux.

    Resolved before a fork, so that the child only calls (a preexec hook must not load anything).
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        from _ctypes import call_function, dlopen, dlsym

        # dlopen(NULL): the program's own symbols, libc's among them
        address = dlsym(dlopen(None), "prctl")  # type: ignore[arg-type]
    except (ImportError, OSError):
        return _with_ctypes()
    return lambda option, arg: int(call_function(address, (option, arg, 0, 0, 0)))


def _with_ctypes() -> Prctl | None:
    try:
        import ctypes

        function = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    return lambda option, arg: int(function(option, arg, 0, 0, 0))
