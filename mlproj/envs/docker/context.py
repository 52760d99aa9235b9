"""The build context of a project image: which files go in, their digest, and the tar itself.

The tar holds a generated Dockerfile at its root and the project under `code/`, so nothing of
ours lands in the image and the project's own files (a Dockerfile included) keep their names.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from mlproj.envs.docker import ignore as docker_ignore
from mlproj.errors import EnvError

CODE_DIR = "/mlflow/projects/code"  # MLflow's location of the project inside the container
DOCKERFILE = "Dockerfile"
_FORMAT = 1  # bump when the image layout changes, so old images are not reused
_CHUNK = 1024 * 1024

EntryKind = Literal["file", "dir", "symlink"]


@dataclass(frozen=True)
class Entry:
    path: str  # relative, `/`-separated
    kind: EntryKind
    mode: int  # permission bits
    digest: str  # sha256 of a file's bytes, a symlink's target, "" for a directory
    size: int = 0


@dataclass(frozen=True)
class Context:
    project_dir: Path
    entries: tuple[Entry, ...]
    dockerfile: str

    @property
    def size(self) -> int:
        return sum(e.size for e in self.entries)

    def digest(self, base_image_id: str) -> str:
        """sha256 of a JSON document of everything that shapes the image."""
        document = {
            "format": _FORMAT,
            "base_image_id": base_image_id,
            "dockerfile": self.dockerfile,
            "entries": [[e.path, e.kind, e.mode, e.digest] for e in self.entries],
        }
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dockerfile(base_image: str) -> str:
    return f"FROM {base_image}\nCOPY code/ {CODE_DIR}/\nWORKDIR {CODE_DIR}\n"


def collect(project_dir: Path, base_image: str) -> Context:
    """Walk the project (honouring .dockerignore) and hash what would be sent."""
    rules = docker_ignore.load(project_dir)
    entries = tuple(sorted(_walk(project_dir, rules), key=lambda e: e.path))
    return Context(project_dir, entries, dockerfile(base_image))


def _walk(root: Path, rules: docker_ignore.IgnoreRules) -> Iterator[Entry]:
    def on_error(exc: OSError) -> None:
        raise EnvError(f"cannot read {exc.filename}: {exc.strerror}", "fix its permissions")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        kept_dirs = []
        for name in sorted(dirnames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            full = Path(dirpath, name)
            excluded = rules.excluded(rel)
            if full.is_symlink():  # os.walk does not follow it: send the link itself
                yield from _entries(full, rel, excluded)
                continue
            yield from _entries(full, rel, excluded)
            if not excluded or rules.has_reincludes:  # a `!` line may bring back a file inside
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        for name in sorted(filenames):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            yield from _entries(Path(dirpath, name), rel, rules.excluded(rel))


def _entries(path: Path, rel: str, excluded: bool) -> Iterator[Entry]:
    entry = None if excluded else _entry(path, rel)
    if entry is not None:
        yield entry


def _entry(path: Path, rel: str) -> Entry | None:
    try:
        st = path.lstat()
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            return Entry(rel, "symlink", mode, os.readlink(path))
        if stat.S_ISDIR(st.st_mode):
            return Entry(rel, "dir", mode, "")
        if stat.S_ISREG(st.st_mode):
            return Entry(rel, "file", mode, _sha256(path), st.st_size)
        return None  # sockets, fifos, devices: docker skips them too
    except OSError as exc:
        raise EnvError(
            f"cannot read {path} for the docker build context: {exc.strerror}",
            "fix its permissions, or list it in .dockerignore",
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_tar(context: Context, out: IO[bytes]) -> None:
    """The build context as an uncompressed tar (the engine is local: gzip would only cost)."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, DOCKERFILE, context.dockerfile.encode("utf-8"), 0o644)
        code = tarfile.TarInfo("code")
        code.type, code.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(code)
        for entry in context.entries:
            _add_entry(tar, context.project_dir, entry)
    out.seek(0)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _add_entry(tar: tarfile.TarFile, root: Path, entry: Entry) -> None:
    info = tarfile.TarInfo(f"code/{entry.path}")
    info.mode = entry.mode
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
        info.mtime = int((root / entry.path).stat().st_mtime)
        tar.addfile(info)
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.digest
        tar.addfile(info)
    else:
        path = root / entry.path
        with path.open("rb") as handle:
            info.size = os.fstat(handle.fileno()).st_size
            info.mtime = int(os.fstat(handle.fileno()).st_mtime)
            tar.addfile(info, handle)
