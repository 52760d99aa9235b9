"""Zip projects: a local `.zip` (a path or `file://`) or an `http(s)://….zip`, unpacked once.

Copies live in `<cache>/zips/`: `<sha256 of the zip bytes>` is the first one; `<sha>-1`, `<sha>-2`,
… are made only for runs of the same zip at the same time. As with git checkouts, a run leases
its copy (a non-blocking flock on `.<name>.lease`) so two runs never share a working directory.
A copy is unpacked into `.<name>.tmp` and renamed into place, so a half-made one never looks
ready; its file list (`.<name>.files`) lets the next run see whether an earlier run changed it,
and a changed copy is unpacked again. MLflow unpacks into a new temp dir each time instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj._util.filelock import lease_free_slot, unlock
from mlproj._util.fs import remove_tree
from mlproj.errors import SourceError
from mlproj.paths import zips_dir
from mlproj.sources.base import FetchedProject
from mlproj.sources.subdir import resolve_subdirectory
from mlproj.sources.uri import file_uri_path, scrub, strip_credentials, url_scheme

MAX_DOWNLOAD_BYTES = 2 * 1024**3
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0  # longest silence from the server, not a bound on the whole download
MAX_COPIES = 64
_STALE_DOWNLOAD_S = 24 * 3600.0
_CHUNK = 1 << 20
_HELD: dict[Path, int] = {}  # copy directory -> descriptor holding its lease


@dataclass(frozen=True)
class _Archive:
    path: Path  # a local file with the zip bytes
    digest: str  # sha256 of those bytes
    shown: str  # absolute path, or the URL without credentials
    downloaded: bool  # a temp file, removed once unpacked


def fetch_zip(base: str, sub: str | None, version: str | None, cwd: Path) -> FetchedProject:
    """The project in the zip archive `base`, `#sub` applied; leased until `release_zip`."""
    shown = _shown(base, cwd)
    if version is not None:
        raise SourceError(
            f"--version '{version}' applies to git projects; {shown} is a zip archive",
            hint="drop --version; MLflow ignores it for zips",
        )
    archive = _download(base, shown) if url_scheme(base) in ("http", "https") else _local(shown)
    try:
        copy = _lease_copy(archive)
    finally:
        if archive.downloaded:
            archive.path.unlink(missing_ok=True)
    try:
        directory = _project_dir(copy, sub, shown)
    except BaseException:
        release_zip(copy)
        raise
    return FetchedProject(directory=directory, source_name=shown + (f"#{sub}" if sub else ""))


def release_zip(directory: Path) -> None:
    """Give back the lease on the copy that contains `directory` (no-op otherwise)."""
    directory = directory.resolve()
    for path in list(_HELD):
        if directory == path or path in directory.parents:
            unlock(_HELD.pop(path))


def _shown(base: str, cwd: Path) -> str:
    scheme = url_scheme(base)
    if scheme in ("http", "https"):
        return strip_credentials(base)
    if scheme == "file":
        return os.path.abspath(cwd / file_uri_path(base))
    if scheme is None:
        return os.path.abspath(cwd / os.path.expanduser(base))
    raise SourceError(
        f"cannot fetch zip archives over {scheme}://: {strip_credentials(base)}",
        hint="give a local .zip file or an http(s) URL",
    )


def _local(shown: str) -> _Archive:
    path = Path(shown)
    if path.is_dir():
        raise SourceError(
            f"{shown} is a directory, not a zip file",
            hint="add a trailing '/' to run the directory itself",
        )
    if not path.is_file():
        raise SourceError(f"no such zip file: {shown}", hint="check the path")
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return _Archive(path, digest.hexdigest(), shown, downloaded=False)


def _download(url: str, shown: str) -> _Archive:
    import requests  # heavy: only for remote zips

    into = zips_dir()
    _prune_downloads(into)
    fd, name = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=into)
    path = Path(name)
    digest = hashlib.sha256()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S)) as resp,
        ):
            _check_response(resp, shown)
            size = 0
            for chunk in resp.iter_content(_CHUNK):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise _too_big(shown)
                digest.update(chunk)
                out.write(chunk)
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, requests.RequestException):
            raise SourceError(
                f"cannot download {shown}: {_reason(exc)}", hint="check the URL and your network"
            ) from exc
        raise
    return _Archive(path, digest.hexdigest(), shown, downloaded=True)


def _check_response(resp: Any, shown: str) -> None:
    if resp.status_code >= 400:
        hint = (
            "put the credentials in the URL: https://user:token@host/…"
            if resp.status_code in (401, 403)
            else "check the URL"
        )
        raise SourceError(
            f"cannot download {shown}: HTTP {resp.status_code} {resp.reason or ''}".rstrip(),
            hint=hint,
        )
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
        raise _too_big(shown)


def _too_big(shown: str) -> SourceError:
    return SourceError(
        f"zip archive {shown} is larger than {MAX_DOWNLOAD_BYTES} bytes",
        hint="download and unpack it yourself, then give the directory",
    )


def _reason(exc: Exception) -> str:
    """The useful part of a requests error (they nest urllib3 object reprs)."""
    import requests

    if isinstance(exc, requests.Timeout):
        return f"no answer within {READ_TIMEOUT_S:.0f} s"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    if errno:
        return scrub(errno.group(0))
    return scrub(f"{type(exc).__name__}: {text}")[:300]


def _prune_downloads(into: Path) -> None:
    """Remove downloads a killed process left behind."""
    cutoff = time.time() - _STALE_DOWNLOAD_S
    for old in into.glob(".download-*.zip"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass  # another process removed it first


def _lease_copy(archive: _Archive) -> Path:
    root = zips_dir()

    def prepare(path: Path) -> None:
        listing = path.with_name(f".{path.name}.files")
        if not _intact(path, listing):
            _build(archive, path, listing)

    what = f"copies of {archive.shown}"
    hint = "wait for some of the runs of this zip to end"
    path, fd = lease_free_slot(root, archive.digest, MAX_COPIES, prepare, what=what, hint=hint)
    _HELD[path] = fd
    return path


def _build(archive: _Archive, path: Path, listing: Path) -> None:
    from mlproj.sources.zip.unpack import unpack

    remove_tree(path)
    tmp = path.with_name(f".{path.name}.tmp")
    remove_tree(tmp)
    try:
        tmp.mkdir()
        unpack(archive.path, tmp, archive.shown)
        part = listing.with_name(listing.name + ".part")
        part.write_text(json.dumps(_snapshot(tmp)))
        os.replace(part, listing)
        os.rename(tmp, path)
    except BaseException:
        remove_tree(tmp)
        raise


def _intact(path: Path, listing: Path) -> bool:
    """Is the copy at `path` exactly as unpacked (no file added, removed or rewritten)?"""
    if not path.is_dir() or not listing.is_file():
        return False
    try:
        recorded = json.loads(listing.read_text())
    except (OSError, ValueError):
        return False
    return bool(recorded == _snapshot(path))


def _snapshot(root: Path) -> dict[str, list[Any]]:
    """Every entry below `root`: kind, and size + mtime or link target. `__pycache__` is left
    out: Python writes it when a run imports the project's modules, and it stays valid."""
    found: dict[str, list[Any]] = {}
    pending = [""]
    while pending:
        rel = pending.pop()
        with os.scandir(root / rel) as entries:
            for entry in entries:
                name = f"{rel}/{entry.name}" if rel else entry.name
                if entry.is_symlink():
                    found[name] = ["l", os.readlink(entry.path)]
                elif entry.is_dir():
                    if entry.name != "__pycache__":
                        found[name] = ["d"]
                        pending.append(name)
                else:
                    st = entry.stat(follow_symlinks=False)
                    found[name] = ["f", st.st_size, st.st_mtime_ns]
    return found


def _project_dir(copy: Path, sub: str | None, shown: str) -> Path:
    """`#sub` is looked up from the zip's root, as MLflow does. A zip made with `zip -r p.zip p`
    holds one directory: when the root has no MLproject, that directory is the project (and
    `#sub` is also looked up inside it)."""
    top = _single_top_dir(copy)
    if top is not None and (sub is None or not (copy / sub).exists()):
        return resolve_subdirectory(top, sub, shown)
    return resolve_subdirectory(copy, sub, shown)


def _single_top_dir(copy: Path) -> Path | None:
    with os.scandir(copy) as it:
        entries = [e for e in it if e.name != "__MACOSX"]  # macOS Finder's resource forks
    if any(e.name.lower() == "mlproject" for e in entries):
        return None
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        return Path(entries[0].path)
    return None
