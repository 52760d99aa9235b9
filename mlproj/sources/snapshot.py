"""A project directory as content: which files belong to it, their hash, a deterministic zip.

Used for runs of a non-git directory (the content hash says which code ran; `--snapshot` saves
the code itself) and by `mlproj pack`. The same files give the same hash and the same zip bytes:
entries are sorted, time stamps and permissions fixed.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from mlproj._util.sha256 import sha256

IGNORE_FILE = ".mlprojignore"
# never project code: VCS data, caches, and the default tracking store a run writes into
ALWAYS_IGNORED = (".git", "mlruns", "__pycache__", "*.pyc", ".venv")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


def ignore_patterns(directory: Path) -> list[str]:
    """Patterns of `.mlprojignore` (gitignore-like: `#` comments, `name`, `dir/`, globs)."""
    path = directory / IGNORE_FILE
    if not path.is_file():
        return list(ALWAYS_IGNORED)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [*ALWAYS_IGNORED, *(s.strip() for s in lines if s.strip() and not s.startswith("#"))]


def is_ignored(rel: str, patterns: Sequence[str]) -> bool:
    """Whether the relative posix path `rel` (or one of its parent dirs) matches a pattern."""
    parts = rel.split("/")
    for pattern in patterns:
        anchored = pattern.startswith("/")
        pat = pattern.strip("/")
        if "/" in pat or anchored:  # a path from the project root
            if any(_matches("/".join(parts[:n]), pat) for n in range(1, len(parts) + 1)):
                return True
        elif any(_matches(part, pat) for part in parts):
            return True
    return False


_MAGIC = frozenset("*?[")


def _matches(name: str, pattern: str) -> bool:
    """fnmatch.fnmatchcase, without compiling a regex for a plain name or a `*.suffix`: every
    run of a directory checks its files against ALWAYS_IGNORED, and five compiled patterns
    cost more than the rest of the walk."""
    if _MAGIC.isdisjoint(pattern):
        return name == pattern
    if pattern.startswith("*") and _MAGIC.isdisjoint(pattern[1:]):
        return name.endswith(pattern[1:])
    return fnmatch.fnmatchcase(name, pattern)


def project_files(directory: Path, candidates: Iterable[str] | None = None) -> list[str]:
    """Sorted relative paths of the project's regular files (links to files included).

    `candidates` (e.g. git's tracked files) limits the walk; `.mlprojignore` applies to both.
    """
    patterns = ignore_patterns(directory)
    if candidates is None:
        candidates = _walk(directory)
    found = []
    for rel in candidates:
        if is_ignored(rel, patterns):
            continue
        if (directory / rel).is_file():
            found.append(rel)
    return sorted(found)


def _walk(directory: Path) -> Iterable[str]:
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        base = Path(root).relative_to(directory)
        for name in files:
            yield (base / name).as_posix()


HASH_BUDGET = 256 * 1024 * 1024  # a run does not read more than this to hash its directory


def content_sha256(directory: Path, files: Sequence[str], budget: int | None = None) -> str | None:
    """sha256 over (path, executable bit, bytes) of each file, in order; names cannot collide
    with contents because every field is length-prefixed. None when the files hold more than
    `budget` bytes (a data directory inside the project must not slow every run down)."""
    if budget is not None and sum((directory / rel).stat().st_size for rel in files) > budget:
        return None
    digest = sha256()
    for rel in files:
        data = (directory / rel).read_bytes()
        mode = "x" if _executable(directory / rel) else "-"
        for field in (rel.encode(), mode.encode(), data):
            digest.update(len(field).to_bytes(8, "big"))
            digest.update(field)
    return digest.hexdigest()


def _executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def deterministic_zip(entries: Sequence[tuple[str, bytes, bool]]) -> bytes:
    """A zip of (name, bytes, executable) entries: sorted, fixed time stamps and modes."""
    import io
    import zipfile  # only --snapshot and pack write zips: not on every run's import path

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, executable in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = ((0o100755 if executable else 0o100644) & 0xFFFF) << 16
            info.create_system = 3  # unix, so that the mode is read back
            archive.writestr(info, data)
    return buffer.getvalue()


def zip_directory(directory: Path, files: Sequence[str]) -> bytes:
    return deterministic_zip(
        [(rel, (directory / rel).read_bytes(), _executable(directory / rel)) for rel in files]
    )
