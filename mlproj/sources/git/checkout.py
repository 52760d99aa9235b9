"""Clean checkouts of one commit, reused across runs, never shared by two runs at a time.

A commit's checkouts live in `<cache>/git/<key>/checkouts/<sha>`, `<sha>-1`, `<sha>-2`, ... Each
has a lease file; a process takes the first slot whose lease is free (non-blocking flock) and
holds it while it runs, so two concurrent runs of one commit (a parameter sweep) get two
directories and never see each other's outputs. On reuse the slot is checked with `git status`
(ignored files included) and reset + cleaned only when a previous run wrote into it. A new slot
is built in a temp dir beside it and renamed into place, so a half-built one never looks ready.

Checkouts borrow objects from the bare repository (`objects/info/alternates`): building one
copies no object, only the work tree.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlproj._util.filelock import lease_free_slot, unlock
from mlproj._util.fs import discard_dir, remove_tree
from mlproj.errors import SourceError
from mlproj.sources.git.cmd import GitFailed, run_git
from mlproj.sources.git.store import RepoCache
from mlproj.sources.uri import strip_credentials

MAX_SLOTS = 64
_HELD: dict[Path, int] = {}  # checkout directory -> descriptor holding its lease


def lease_checkout(cache: RepoCache, sha: str, version: str | None) -> Path:
    """A clean checkout of `sha`, leased to this process until `release_checkout` or exit."""
    cache.checkouts.mkdir(parents=True, exist_ok=True)

    def prepare(path: Path) -> None:
        if not _reuse(cache, path, sha, version):
            _build(cache, path, sha, version)

    path, fd = lease_free_slot(
        cache.checkouts,
        sha,
        MAX_SLOTS,
        prepare,
        what=f"checkouts of {sha}",
        hint="wait for some of the runs of this commit to end",
    )
    _HELD[path] = fd
    return path


def release_checkout(directory: Path) -> None:
    """Give back the lease on the checkout that contains `directory` (no-op otherwise)."""
    directory = directory.resolve()
    for path in list(_HELD):
        if directory == path or path in directory.parents:
            unlock(_HELD.pop(path))


def _reuse(cache: RepoCache, path: Path, sha: str, version: str | None) -> bool:
    """Make an existing slot clean; False when there is none or it is broken beyond repair."""
    if not (path / ".git").is_dir():
        if path.exists():
            discard_dir(path)
        return False
    try:
        head = run_git(["rev-parse", "HEAD"], cwd=path).strip()
        if head == sha and _is_clean(path):
            return True
        _reset(cache, path, sha, version)
        return True
    except GitFailed:  # objects gone, .git damaged by a run: start again
        discard_dir(path)
        return False


def _has_submodules(path: Path) -> bool:
    return (path / ".gitmodules").is_file()


def _is_clean(path: Path) -> bool:
    status = run_git(
        [
            "status",
            "--porcelain",
            "-z",
            "--ignored",
            "--untracked-files=normal",
            "--ignore-submodules=none",
        ],
        cwd=path,
    )
    if status:
        return False
    if not _has_submodules(path):
        return True
    sub_status = run_git(["submodule", "status", "--recursive"], cwd=path)
    if any(line[:1] in ("-", "+", "U") for line in sub_status.splitlines()):
        return False
    nested = run_git(
        ["submodule", "foreach", "--recursive", "--quiet", "git status --porcelain --ignored"],
        cwd=path,
    )
    return not nested.strip()


def _reset(cache: RepoCache, path: Path, sha: str, version: str | None) -> None:
    """Undo whatever a previous run did: tracked files, HEAD, untracked and ignored files."""
    run_git(["checkout", "-q", "-f", "--detach", sha], cwd=path)
    run_git(["clean", "-ffdxq"], cwd=path)
    if _has_submodules(path):
        _init_submodules(cache, path, sha, version)  # back to the recorded commits
        run_git(["submodule", "foreach", "--recursive", "--quiet", "git clean -ffdxq"], cwd=path)


def _build(cache: RepoCache, path: Path, sha: str, version: str | None) -> None:
    with cache.lock():
        cache.ensure_commit(sha, version)
        cache.keep(sha)  # a checkout borrows these objects: keep them reachable
    tmp = path.with_name(f".{path.name}.tmp")
    remove_tree(tmp)
    try:
        run_git(["init", "-q", "--template=", str(tmp)])
        alternates = tmp / ".git" / "objects" / "info" / "alternates"
        alternates.parent.mkdir(parents=True, exist_ok=True)
        alternates.write_text(f"{cache.bare / 'objects'}\n")
        # A real origin lets code in the run (and MLflow's own git probe) see where it came from.
        run_git(["remote", "add", "origin", cache.shown], cwd=tmp)
        run_git(["checkout", "-q", "--detach", sha], cwd=tmp)
        if _has_submodules(tmp):
            _init_submodules(cache, tmp, sha, version)
        os.rename(tmp, path)
    except BaseException as exc:
        remove_tree(tmp)
        if isinstance(exc, GitFailed):
            raise SourceError(
                f"cannot check out {sha[:12]} of {cache.shown}: {exc.detail}"
            ) from exc
        raise


def _init_submodules(cache: RepoCache, work: Path, sha: str, version: str | None) -> None:
    # Relative submodule URLs resolve against origin; give git the URL it was fetched with
    # (credentials included) for this command only, then scrub what git wrote down.
    config = ["-c", f"remote.origin.url={cache.url}"]
    if cache.local:  # git refuses file:// submodules by default; a local project may use them
        config += ["-c", "protocol.file.allow=always"]
    try:
        run_git(
            [*config, "submodule", "update", "--init", "--recursive", "--force"],
            cwd=work,
            trusted=True,  # our checkout; the fetch may need the user's credentials
        )
    except GitFailed as exc:
        shown = f"version '{version}'" if version else sha[:12]
        raise SourceError(
            f"cannot fetch the submodules of {cache.shown} ({shown}): {exc.detail}",
            hint="check the URLs in .gitmodules and your git credentials",
        ) from exc
    if cache.url != cache.shown:
        _scrub_urls(work / ".git")


def _scrub_urls(git_dir: Path) -> None:
    """Rewrite every URL with credentials in the config files under `git_dir`."""
    for config in [git_dir / "config", *git_dir.glob("modules/**/config")]:
        if not config.is_file():
            continue
        out = run_git(
            ["config", "--file", str(config), "-z", "--get-regexp", r"\.url$"], check=False
        )
        for entry in filter(None, out.split("\0")):
            key, _, url = entry.partition("\n")
            clean = strip_credentials(url)
            if clean != url:
                run_git(["config", "--file", str(config), key, clean])
