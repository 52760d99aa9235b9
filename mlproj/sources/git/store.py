"""One bare repository per remote URL under `<cache>/git/<key>/repo.git`, fetched under a lock.

Refs mirror the remote's branches and tags; every commit handed out for a run also gets a
`refs/mlproj/keep/<sha>` ref, so that pruned branches and `git gc` never take objects away from
a checkout that borrows them (checkouts use this repository as their object store).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from mlproj._util.filelock import locked
from mlproj.errors import SourceError
from mlproj.paths import git_dir
from mlproj.sources.git.cmd import GitFailed, git_ok, run_git
from mlproj.sources.git.refs import describe
from mlproj.sources.uri import cache_key

_MIRROR_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")


class RepoCache:
    """The cache of one remote. `url` is what git is given (it may hold credentials and is never
    written to disk); `shown` is the same URL with credentials stripped, for messages."""

    def __init__(self, url: str, shown: str, *, local: bool) -> None:
        self.url = url
        self.shown = shown
        self.local = local  # a local source: file:// submodules are allowed
        self.dir = git_dir() / cache_key(shown)
        self.bare = self.dir / "repo.git"
        self.checkouts = self.dir / "checkouts"

    @contextmanager
    def lock(self) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with locked(self.dir / "lock", f"the git cache of {self.shown}"):
            yield

    def _git(self, *args: str) -> str:
        return run_git([f"--git-dir={self.bare}", "-c", "gc.autoDetach=false", *args], trusted=True)

    def has_commit(self, sha: str) -> bool:
        if not (self.bare / "HEAD").is_file():
            return False
        return git_ok([f"--git-dir={self.bare}", "cat-file", "-e", f"{sha}^{{commit}}"])

    def ensure_bare(self) -> None:
        """Create the bare repository (call with the lock held); published by rename."""
        if (self.bare / "HEAD").is_file():
            return
        tmp = self.dir / "repo.git.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        run_git(["init", "-q", "--bare", "--template=", str(tmp)])
        (self.dir / "url").write_text(self.shown + "\n")  # for people browsing the cache
        os.rename(tmp, self.bare)

    def fetch_all(self, version: str | None) -> None:
        """Fetch every branch and tag (call with the lock held)."""
        self.ensure_bare()
        try:
            self._git("fetch", "--prune", "--no-tags", self.url, *_MIRROR_REFSPECS)
        except GitFailed as exc:
            raise SourceError(
                f"cannot fetch {describe(self.shown, version)}: {exc.detail}",
                hint="check the URL, your network and your git credentials",
            ) from exc

    def ensure_commit(self, sha: str, version: str | None) -> None:
        """Make `sha` present: fetch branches and tags, then the sha itself (call locked)."""
        if self.has_commit(sha):
            return
        self.fetch_all(version)
        if self.has_commit(sha):
            return
        try:  # a commit no branch or tag reaches; most servers serve it by id
            self._git("fetch", "--no-tags", self.url, sha)
        except GitFailed as exc:
            detail = exc.detail
            if "not our ref" in detail or "couldn't find remote ref" in detail:
                detail = "the repository has no commit with that sha"
            raise unknown_version(self.shown, version or sha, detail) from exc
        if not self.has_commit(sha):
            raise unknown_version(self.shown, version or sha, "the fetched object is no commit")

    def resolve_abbreviated(self, abbrev: str) -> str:
        """The one commit whose sha starts with `abbrev` (call locked, after fetch_all)."""
        try:
            return self._git("rev-parse", "--verify", f"{abbrev}^{{commit}}").strip()
        except GitFailed as exc:
            if "ambiguous" in exc.stderr:
                raise SourceError(
                    f"version '{abbrev}' of {self.shown} is ambiguous: several commits start "
                    "with it",
                    hint="give more characters of the commit sha",
                ) from exc
            raise unknown_version(
                self.shown, abbrev, "no branch, tag or commit has that name"
            ) from exc

    def keep(self, sha: str) -> None:
        self._git("update-ref", f"refs/mlproj/keep/{sha}", sha)


def unknown_version(shown: str, version: str, detail: str) -> SourceError:
    return SourceError(
        f"cannot find version '{version}' of {shown}: {detail}",
        hint="give an existing branch, tag or commit sha with --version",
    )
