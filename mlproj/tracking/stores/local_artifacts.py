"""Artifacts kept in a local directory (the file store, or a server on this machine whose
artifact root is a local path). Files are published by rename, so readers never see a part."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from mlproj._util.fs import atomic_write
from mlproj.errors import TrackingError

TMP_PREFIX = ".mlproj-tmp-"


def is_local(uri: str) -> bool:
    return uri.startswith("file:") or uri.startswith("/")


def local_path(uri: str) -> str:
    """`file:///abs/path` (or a plain path) -> the local path."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise TrackingError(f"file URI {uri!r} names a remote host {parsed.netloc!r}")
        return unquote(parsed.path)
    return uri


def clean_path(path: str) -> str:
    """A relative artifact path without `..`, slashes normalised ('' for the root)."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if path.startswith("/") or ".." in parts:
        raise TrackingError(
            f"invalid artifact path {path!r}", hint="use a relative path without '..'"
        )
    return "/".join(parts)


def copy_in(root: str, local_file: Path, artifact_path: str) -> None:
    """Copy `local_file` into `root/artifact_path/`, keeping its name."""
    dest_dir = os.path.join(root, clean_path(artifact_path))
    os.makedirs(dest_dir, exist_ok=True)
    tmp = os.path.join(dest_dir, f"{TMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}")
    try:
        import shutil  # off a run's path, which writes its logs itself

        shutil.copyfile(local_file, tmp)
        os.replace(tmp, os.path.join(dest_dir, Path(local_file).name))
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise TrackingError(f"cannot log artifact {local_file}: {exc.strerror}") from exc


def write(root: str, artifact_file: str, data: bytes) -> None:
    rel = clean_path(artifact_file)
    if not rel:
        raise TrackingError("an artifact needs a file name")
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, data, os.path.dirname(path))


def read(root: str, run_id: str, path: str) -> bytes:
    full = os.path.join(root, clean_path(path))
    try:
        with open(full, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise TrackingError(f"run {run_id} has no artifact {path!r}") from None


def list_files(root: str, path: str = "") -> list[str]:
    base = os.path.join(root, clean_path(path))
    found = []
    for folder, _dirs, files in os.walk(base):
        for name in files:
            if not name.startswith(TMP_PREFIX):
                found.append(os.path.relpath(os.path.join(folder, name), root))
    return sorted(p.replace(os.sep, "/") for p in found)
