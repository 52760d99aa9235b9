"""`mlproj pack`: a project at a commit, its MLproject and a lock for its environment, as one
deterministic zip with a manifest (same input, same bytes).

What a bundle holds: the project's tracked files (`.mlprojignore` applied), `conda-lock.yml` or
`python_env.lock.txt` (generated when absent or stale: the one solve), and `mlproj-bundle.json`.
What it still needs from outside: the locked packages themselves (conda channel, package index
or a local mirror of them: the lock pins exact files and their hashes), the python interpreter
the lock was made for, and, for docker projects, the base image.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import sources, spec
from mlproj.errors import EnvError, SourceError
from mlproj.sources import local, snapshot
from mlproj.sources.base import FetchedProject
from mlproj.sources.git.cmd import run_git
from mlproj.sources.uri import split_subdirectory
from mlproj.sources.zip.manifest import MANIFEST_NAME, manifest_bytes


@dataclass(frozen=True)
class PackResult:
    path: Path
    sha256: str
    files: int
    locks: tuple[str, ...]
    commit: str | None
    generated: tuple[str, ...]  # locks written for the bundle (absent or stale in the project)


def pack(uri: str, version: str | None, cwd: Path, output: Path) -> PackResult:
    fetched = _fetch(uri, version, cwd)
    try:
        files = _project_files(fetched)
        with tempfile.TemporaryDirectory(prefix="mlproj-pack-") as scratch:
            staging = Path(scratch) / "project"
            for rel in files:
                _copy(fetched.directory / rel, staging / rel)
            project = spec.load_project(staging)
            locks, generated = _locks(project, staging)
            all_files = sorted(set(files) | set(locks))
            entries = [
                (rel, (staging / rel).read_bytes(), _exec(staging / rel)) for rel in all_files
            ]
            manifest = _manifest(fetched, project, entries, locks)
            data = snapshot.deterministic_zip([*entries, (MANIFEST_NAME, manifest, False)])
    finally:
        sources.release(fetched)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(output)
    git = fetched.git
    return PackResult(
        output,
        hashlib.sha256(data).hexdigest(),
        len(all_files),
        tuple(locks),
        git.commit if git else None,
        tuple(generated),
    )


def _fetch(uri: str, version: str | None, cwd: Path) -> FetchedProject:
    """A local git work tree is packed at HEAD (a clean checkout), never with uncommitted edits."""
    base, _ = split_subdirectory(uri)
    path = cwd / os.path.expanduser(base)
    if version is None and path.is_dir() and local.find_repo(path) is not None:
        version = "HEAD"
    return sources.fetch_project(uri, version, cwd=cwd)


def _project_files(fetched: FetchedProject) -> list[str]:
    directory = fetched.directory
    if fetched.git is None:
        return snapshot.project_files(directory)
    tracked = run_git(["ls-files", "-z", "--", "."], cwd=directory).split("\0")
    return snapshot.project_files(directory, [t for t in tracked if t])


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    if _exec(source):
        target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _exec(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def _locks(project: spec.Project, staging: Path) -> tuple[list[str], list[str]]:
    """The env's lock, relative to the project: kept when fresh, else written now."""
    env = project.env
    if env.file is None or env.kind in ("docker", "local"):
        return [], []
    if not env.file.resolve().is_relative_to(staging.resolve()):
        raise EnvError(
            f"{env.file.name} lies outside the project directory, so a bundle cannot hold it",
            "move it into the project",
        )
    if env.kind == "conda":
        from mlproj.envs.conda import lockfile
        from mlproj.envs.conda.solve import current_platform

        status = lockfile.lock_status(env.file, current_platform())
        if not status.used:
            lockfile.lock_project(env.file)
        lock = _rel(lockfile.lockfile_for(env.file), staging)
        return [lock], [] if status.used else [lock]
    from mlproj.envs.virtualenv.lock import find_lock
    from mlproj.envs.virtualenv.locking import write_project_lock

    found = find_lock(env.file, project.directory, {})
    if found is not None:
        return [_rel(found.path, staging)], []
    path = write_project_lock(project)
    return [_rel(path, staging)], [_rel(path, staging)]


def _rel(path: Path, staging: Path) -> str:
    return path.resolve().relative_to(staging.resolve()).as_posix()


def _manifest(
    fetched: FetchedProject,
    project: spec.Project,
    entries: list[tuple[str, bytes, bool]],
    locks: list[str],
) -> bytes:
    git = fetched.git
    base, sub = split_subdirectory(fetched.source_name)
    source: dict[str, Any] = {
        "uri": (git.repo_url if git and git.repo_url else base),
        "commit": git.commit if git else None,
        "subdir": sub,
        "version": fetched.version,
    }
    if git is None:
        source["note"] = "not a git project: no commit to rebuild from"
    return manifest_bytes(
        {
            "name": project.name,
            "source": source,
            "env": {"kind": project.env.kind, "locks": locks},
            "files": {name: hashlib.sha256(data).hexdigest() for name, data, _ in entries},
        }
    )


def check_output(output: Path) -> None:
    if output.suffix != ".zip":
        raise SourceError(f"{output}: a bundle is a .zip file", "give -o NAME.zip")
