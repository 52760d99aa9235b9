"""File-system steps that must never leave a half state behind: writing a file atomically, and
discarding a directory so that no moment of its removal looks like a usable one."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRASH_PREFIX = ".trash-"


def atomic_write(
    path: str | Path, data: bytes, tmp_dir: str | Path, *, fsync: bool = False
) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a part.

    The temp file lives in `tmp_dir` (same file system; a caller picks a folder where a stray
    temp file is never mistaken for content). `fsync` makes the data durable before the rename,
    for files whose presence is a promise (an env's completion marker).
    """
    # os.urandom, not the secrets module: one import less on every run's path
    tmp = os.path.join(tmp_dir, f".mlproj-tmp-{os.getpid()}-{os.urandom(6).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def discard_dir(path: Path) -> None:
    """Take `path` away at once (renamed into `.trash-<name>-<random>` beside it), then delete it.

    A trash folder left by a failed delete keeps that prefix, so a cache can sweep it later.
    """
    import tempfile  # shutil and tempfile are off a run's path: only discarding needs them

    trash = Path(tempfile.mkdtemp(prefix=f"{TRASH_PREFIX}{path.name}-", dir=path.parent))
    with contextlib.suppress(FileNotFoundError):
        os.rename(path, trash / "gone")
    with contextlib.suppress(OSError):
        remove_tree(trash)


def remove_tree(path: Path) -> None:
    """Delete a file or a directory tree, read-only parts included; a missing path is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        import shutil

        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=_make_writable)
        else:
            shutil.rmtree(path, onerror=_make_writable)


def _make_writable(func: Callable[..., Any], target: str, _exc: object) -> None:
    """A run may leave read-only directories behind; make them writable and retry."""
    parent = os.path.dirname(target)
    os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
    if os.path.isdir(target) and not os.path.islink(target):
        os.chmod(target, os.stat(target).st_mode | stat.S_IRWXU)
    func(target)
