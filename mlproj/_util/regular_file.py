"""Read a file that must be a regular file, without ever blocking.

A FIFO, a device or a committed symlink to /proc/self/fd/0 where an MLproject or an env file
should be would make a plain open() or read() wait for ever. The file is opened with O_NONBLOCK
(opening a FIFO returns at once), then fstat says what was opened, before a byte is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def not_regular(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO (named pipe)"), None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_regular(path: Path | str, limit: int | None = None) -> bytes:
    """Up to `limit` bytes (all when None) of a regular file; OSError (with a strerror that
    says what the path really is) for anything else."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        what = not_regular(os.fstat(fd).st_mode)
        if what is not None:
            raise OSError(errno.EINVAL, f"it is {what}, not a regular file", str(path))
        os.set_blocking(fd, True)  # a regular file: plain reads from here on
        chunks: list[bytes] = []
        remaining = limit
        while remaining is None or remaining > 0:
            chunk = os.read(fd, 1 << 20 if remaining is None else min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            if remaining is not None:
                remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
