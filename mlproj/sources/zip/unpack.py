"""Unpack a zip project so that nothing in it can write or point outside the target directory.

Refused with a SourceError: member names that are absolute or climb out with `..`, symlinks
whose target lies outside (checked by name first, then on disk once every link exists, since
links can chain), members below a symlink member, encrypted members, and archives with more than
MAX_MEMBERS members or more than MAX_TOTAL_BYTES unpacked (zip bombs). zipfile never returns more
bytes than a member declares, so the declared sizes bound what lands on disk.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import stat
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mlproj.errors import SourceError

MAX_MEMBERS = 100_000
MAX_TOTAL_BYTES = 2 * 1024**3
_MAX_LINK_TARGET = 4096
_CHUNK = 1 << 20
_UNIX = 3  # ZipInfo.create_system of archives made on Unix (modes and symlinks are meaningful)
# What a damaged archive raises while being read (bz2 raises OSError, handled by the caller).
_DAMAGED = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError)


@dataclass(frozen=True)
class _Member:
    info: zipfile.ZipInfo
    path: str  # normalised, relative, '/'-separated
    kind: str  # "file", "dir" or "link"


def unpack(archive: Path, dest: Path, shown: str) -> None:
    """Extract `archive` into the existing empty directory `dest`; errors name `shown`."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = _check(zf, shown)
            _extract(zf, members, dest, shown)
    except _DAMAGED as exc:
        raise SourceError(
            f"{shown} is not a readable zip archive: {exc}",
            hint="check that the file is a complete, unencrypted .zip",
        ) from exc


def _check(zf: zipfile.ZipFile, shown: str) -> list[_Member]:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SourceError(
            f"zip archive {shown} has {len(infos)} members, more than the "
            f"{MAX_MEMBERS} allowed (a zip bomb?)"
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise SourceError(
            f"zip archive {shown} would unpack to {total} bytes, more than the "
            f"{MAX_TOTAL_BYTES} allowed (a zip bomb?)"
        )
    members = [m for m in (_member(info, shown) for info in infos) if m is not None]
    links = {m.path for m in members if m.kind == "link"}
    uses = Counter(m.path for m in members)
    for m in members:
        if m.kind == "link":
            _check_link_name(zf, m, shown)
        if _ancestors(m.path) & links or (m.kind == "link" and uses[m.path] > 1):
            raise SourceError(
                f"zip member {m.info.filename} of {shown} is written through or "
                "over a symlink member (refused: it could escape the archive)"
            )
    return members


def _member(info: zipfile.ZipInfo, shown: str) -> _Member | None:
    name = info.filename
    if info.flag_bits & 0x1:
        raise SourceError(
            f"zip member {name} of {shown} is encrypted", hint="give an archive without a password"
        )
    path = posixpath.normpath(name)
    drive = len(name) > 1 and name[1] == ":"
    if name.startswith(("/", "\\")) or drive or path == ".." or path.startswith("../"):
        raise SourceError(
            f"zip member {name} of {shown} attempts path traversal: it is "
            "absolute or leaves the archive",
            hint="rebuild the zip with relative paths",
        )
    if path == ".":
        return None
    mode = info.external_attr >> 16
    if info.create_system == _UNIX and stat.S_ISLNK(mode):
        return _Member(info, path, "link")
    return _Member(info, path, "dir" if info.is_dir() else "file")


def _ancestors(path: str) -> set[str]:
    parts = path.split("/")
    return {"/".join(parts[:i]) for i in range(1, len(parts))}


def _link_target(zf: zipfile.ZipFile, m: _Member) -> str:
    if m.info.file_size > _MAX_LINK_TARGET:
        return "/" + "x" * _MAX_LINK_TARGET  # refused by the caller as pointing outside
    return zf.read(m.info).decode("utf-8", "surrogateescape")


def _check_link_name(zf: zipfile.ZipFile, m: _Member, shown: str) -> None:
    target = _link_target(zf, m)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(m.path), target))
    if not target or target.startswith("/") or joined == ".." or joined.startswith("../"):
        raise _outside(m, target, shown)


def _outside(m: _Member, target: str, shown: str) -> SourceError:
    return SourceError(
        f"zip member {m.info.filename} of {shown} is a symlink pointing outside "
        f"the archive ({target[:200]})",
        hint="rebuild the zip without it",
    )


def _extract(zf: zipfile.ZipFile, members: list[_Member], dest: Path, shown: str) -> None:
    # Links last: while files are written no link exists, so no write can follow one.
    for m in members:
        if m.kind == "dir":
            (dest / m.path).mkdir(parents=True, exist_ok=True)
        elif m.kind == "file":
            _write_file(zf, m, dest / m.path)
    root = os.path.realpath(dest)
    for m in members:
        if m.kind == "link":
            target = _link_target(zf, m)
            path = dest / m.path
            path.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(target, path)
            real = os.path.realpath(path)
            if real != root and not real.startswith(root + os.sep):
                raise _outside(m, target, shown)


def _write_file(zf: zipfile.ZipFile, m: _Member, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(m.info) as src, open(path, "wb") as out:
        while chunk := src.read(_CHUNK):
            out.write(chunk)
    mode = m.info.external_attr >> 16
    if m.info.create_system == _UNIX and mode & 0o777:
        # Keep the execute bits a script needs; never setuid/sticky; always owner-writable
        # so the cache can be cleaned.
        os.chmod(path, (mode & 0o777) | 0o600)
