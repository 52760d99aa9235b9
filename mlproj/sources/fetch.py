"""URI (+ version) -> a project directory at a known commit. See `fetch_project`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from mlproj._util.record import Record
from mlproj.errors import SourceError
from mlproj.sources import local
from mlproj.sources.base import FetchedProject, GitInfo
from mlproj.sources.subdir import clean_subdirectory, resolve_subdirectory
from mlproj.sources.uri import (
    GIT_SCHEMES,
    check_safe,
    file_uri_path,
    is_scp_like,
    is_zip_uri,
    split_subdirectory,
    strip_credentials,
    url_scheme,
)

# The cache of git checkouts and zip copies is imported by the paths that use it: a project run
# in place (the common case) needs neither.
if TYPE_CHECKING:
    from mlproj.sources.git.refs import Resolved
    from mlproj.sources.git.store import RepoCache


class _Remote(Record):
    url: str  # given to git (may hold credentials)
    shown: str  # credentials stripped: recorded and printed
    local: bool  # a path on this machine (file:// or a bare repository)


def fetch_project(
    uri: str, version: str | None = None, *, cwd: Path | None = None
) -> FetchedProject:
    """Find or fetch the project that `uri` names, at `version` (a branch, tag or commit).

    Local directories are used in place; with `version` (and for git URLs) the project is a
    clean checkout in the cache, leased to this process until `release` or exit; zip archives
    (`*.zip`, local or http(s)) are unpacked into the cache and leased the same way. Raises
    SourceError with a one-line message for every failure.
    """
    try:
        return _fetch(uri, version, cwd or Path.cwd())
    except OSError as exc:  # cache not writable, disk full, ...
        where = f" ({exc.filename})" if exc.filename else ""
        raise SourceError(
            f"cannot prepare project {strip_credentials(uri)}: {exc.strerror or exc}{where}"
        ) from exc


def _fetch(uri: str, version: str | None, cwd: Path) -> FetchedProject:
    base, sub = split_subdirectory(uri)
    check_safe(base, version)
    clean_subdirectory(sub)  # refuse `..` and absolute paths before any work
    if is_zip_uri(base):
        from mlproj.sources.zip.fetch import fetch_zip

        return fetch_zip(base, sub, version, cwd)
    target = _classify(base, cwd)
    if isinstance(target, Path):
        if version is None:
            return _local_in_place(target, sub)
        return _local_at_version(target, sub, version)
    return _from_git(target, sub, version, target.shown + (f"#{sub}" if sub else ""))


def release(project: FetchedProject) -> None:
    """Let other runs reuse the cached checkout of `project` now (it is kept, not removed)."""
    from mlproj.sources.git.checkout import release_checkout
    from mlproj.sources.zip.fetch import release_zip

    release_checkout(project.directory)
    release_zip(project.directory)


def _classify(base: str, cwd: Path) -> Path | _Remote:
    scheme = url_scheme(base)
    if scheme == "file":
        path: Path | None = Path(file_uri_path(base))
    elif scheme is None:
        path = Path(os.path.expanduser(base))
    else:
        path = None
    if path is not None:
        path = cwd / path
        if path.exists():
            return _local_target(path, base)
    if scheme == "file":  # gone from disk; the cache may still hold the commit
        return _Remote(base, strip_credentials(base), local=True)
    if scheme in GIT_SCHEMES or (scheme is None and is_scp_like(base)):
        return _Remote(base, strip_credentials(base), local=False)
    if scheme is not None:
        raise SourceError(
            f"unsupported project URI scheme '{scheme}': {strip_credentials(base)}",
            hint="give a local directory or a git URL: https, ssh, git or file",
        )
    raise SourceError(
        f"no such project directory: {base}",
        hint="check the path; git URLs need a scheme such as https://",
    )


def _local_target(path: Path, base: str) -> Path | _Remote:
    resolved = path.resolve()
    if not resolved.is_dir():
        raise SourceError(
            f"project path is not a directory: {base}",
            hint="give the directory that holds the MLproject file",
        )
    if _is_bare_repository(resolved):  # nothing to run in place: clone it like a remote
        shown = base if url_scheme(base) == "file" else f"file://{resolved}"
        return _Remote(str(resolved), strip_credentials(shown), local=True)
    return resolved


def _is_bare_repository(path: Path) -> bool:
    return (
        (path / "HEAD").is_file()
        and (path / "objects").is_dir()
        and (path / "refs").is_dir()
        and not (path / ".git").exists()
    )


def _local_in_place(path: Path, sub: str | None) -> FetchedProject:
    directory = resolve_subdirectory(path, sub, str(path))
    repo = local.find_repo(directory)
    if repo is None:
        return FetchedProject(directory=directory, source_name=str(directory))
    return FetchedProject(
        directory=directory, source_name=local.source_name(repo), git=local.inspect(repo)
    )


def _local_at_version(path: Path, sub: str | None, version: str) -> FetchedProject:
    """A local git project at another commit: clone it into the cache; the user's work tree,
    HEAD, branches and remotes stay exactly as they are."""
    from mlproj.sources.git.checkout import lease_checkout, release_checkout
    from mlproj.sources.git.store import RepoCache

    repo = local.find_repo(path)
    if repo is None:
        raise SourceError(
            f"--version needs a git project: {path} is not tracked in a git "
            "repository with commits",
            hint="drop --version, or commit the project",
        )
    resolved = _resolve_local_version(repo.root, version)
    cache = RepoCache(str(repo.root), f"file://{repo.root}", local=True)
    checkout = lease_checkout(cache, resolved.sha, version)
    try:
        base = checkout / repo.rel if repo.rel else checkout
        if not base.is_dir():
            raise SourceError(f"{repo.rel} does not exist in {repo.root} at version '{version}'")
        directory = resolve_subdirectory(base, sub, f"{repo.root} at version '{version}'")
    except BaseException:
        release_checkout(checkout)
        raise
    rel = directory.relative_to(checkout.resolve()).as_posix()
    name = f"file://{repo.root}" + ("" if rel == "." else f"#{rel}")
    info = GitInfo(
        commit=resolved.sha,
        repo_url=local.first_remote_url(repo.root) or cache.shown,
        branch=resolved.branch,
        tag=resolved.tag,
    )
    return FetchedProject(directory=directory, source_name=name, git=info, version=version)


def _resolve_local_version(root: Path, version: str) -> Resolved:
    """Any revision git understands in the user's repository (read-only)."""
    from mlproj.sources.git.cmd import GitFailed, run_git
    from mlproj.sources.git.refs import Resolved
    from mlproj.sources.git.store import unknown_version

    shown = f"file://{root}"
    try:
        sha = run_git(["rev-parse", "--verify", f"{version}^{{commit}}"], cwd=root).strip()
    except GitFailed as exc:
        if "ambiguous" in exc.stderr:
            raise SourceError(
                f"version '{version}' of {shown} is ambiguous",
                hint="give more characters of the commit sha",
            ) from exc
        raise unknown_version(shown, version, "no branch, tag or commit has that name") from exc
    refs = run_git(
        [
            "for-each-ref",
            "--format=%(refname)%00%(objectname)%00%(*objectname)",
            f"refs/heads/{version}",
            f"refs/tags/{version}",
        ],
        cwd=root,
    )
    branch = tag = None
    for line in refs.splitlines():
        name, obj, peeled = [*line.split("\0"), "", ""][:3]
        if (peeled or obj) != sha:
            continue
        if name == f"refs/heads/{version}":
            branch = version
        elif name == f"refs/tags/{version}":
            tag = version
    return Resolved(sha, branch=branch, tag=tag)


def _from_git(
    remote: _Remote, sub: str | None, version: str | None, source_name: str
) -> FetchedProject:
    from mlproj.sources.git.checkout import lease_checkout, release_checkout
    from mlproj.sources.git.refs import describe
    from mlproj.sources.git.store import RepoCache

    cache = RepoCache(remote.url, remote.shown, local=remote.local)
    resolved = _resolve_remote(cache, version)
    checkout = lease_checkout(cache, resolved.sha, version)
    try:
        directory = resolve_subdirectory(checkout, sub, describe(remote.shown, version))
    except BaseException:
        release_checkout(checkout)
        raise
    info = GitInfo(
        commit=resolved.sha, repo_url=remote.shown, branch=resolved.branch, tag=resolved.tag
    )
    return FetchedProject(directory=directory, source_name=source_name, git=info, version=version)


def _resolve_remote(cache: RepoCache, version: str | None) -> Resolved:
    from mlproj.sources.git.refs import Resolved, ls_remote, resolve
    from mlproj.sources.git.store import unknown_version
    from mlproj.sources.uri import is_abbreviated_sha, is_full_sha

    if version is not None and is_full_sha(version):
        return Resolved(version.lower())  # no network: the cache may already hold it
    refs = ls_remote(cache.url, version, cache.shown)
    found = resolve(refs, version, cache.shown)
    if found is not None:
        return found
    assert version is not None  # resolve() raises when the default branch is missing
    if not is_abbreviated_sha(version):
        raise unknown_version(cache.shown, version, "no branch, tag or commit has that name")
    with cache.lock():
        cache.fetch_all(version)
        return Resolved(cache.resolve_abbreviated(version.lower()))
