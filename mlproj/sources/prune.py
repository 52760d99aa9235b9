"""Git checkouts and zip copies in the cache, for `mlproj cache prune`.

A run leases its checkout or copy with a non-blocking flock on `.<name>.lease` (checkout.py,
zip/fetch.py) and touches that file, so its mtime says when the copy was last used. Removal
takes the same lease first: a copy a running run holds is never touched. Lease files stay (a
few bytes), so two processes can never lock two different files for one slot.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from mlproj._util.filelock import try_lock, unlock
from mlproj._util.prunable import Prunable
from mlproj.paths import git_dir, zips_dir


def leased_copies() -> list[Prunable]:
    found = [_item("git checkout", d) for d in _slots(git_dir(), "*/checkouts")]
    zips = zips_dir()
    found += [_item("zip copy", d) for d in _slots(zips.parent, zips.name)]
    return found


def _slots(base: Path, pattern: str) -> Iterator[Path]:
    for parent in base.glob(pattern):
        for entry in sorted(parent.iterdir()) if parent.is_dir() else ():
            if not entry.name.startswith(".") and entry.is_dir() and not entry.is_symlink():
                yield entry


def _lease(path: Path) -> Path:
    return path.with_name(f".{path.name}.lease")


def _item(kind: str, path: Path) -> Prunable:
    stamps = [p.stat().st_mtime for p in (path, _lease(path)) if p.exists()]
    return Prunable(kind, str(path), _tree_size(path), max(stamps), lambda: remove_if_free(path))


def remove_if_free(path: Path) -> bool:
    fd = try_lock(_lease(path))
    if fd is None:
        return False  # a running run holds it
    try:
        trash = path.with_name(f".{path.name}.trash-{os.getpid()}")
        os.rename(path, trash)  # from here on no reader takes it for a ready copy
        shutil.rmtree(trash, ignore_errors=True)
        path.with_name(f".{path.name}.files").unlink(missing_ok=True)  # a zip copy's listing
    finally:
        unlock(fd)
    return True


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):  # removed since the listing
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total
