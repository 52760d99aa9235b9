"""Resolve a version (branch, tag, default branch) against a remote with one `git ls-remote`."""

from __future__ import annotations

from dataclasses import dataclass

from mlproj.errors import SourceError
from mlproj.sources.git.cmd import GitFailed, run_git
from mlproj.sources.uri import is_full_sha


@dataclass(frozen=True)
class Resolved:
    sha: str  # full commit sha (a tag object's sha once peeled)
    branch: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class RemoteRefs:
    refs: dict[str, str]  # ref name -> sha; annotated tags also as "refs/tags/x^{}"
    head_target: str | None  # what HEAD points to, e.g. "refs/heads/main"


def describe(url: str, version: str | None) -> str:
    return f"{url} (version '{version}')" if version else f"{url} (default branch)"


def ls_remote(url: str, version: str | None, shown: str) -> RemoteRefs:
    if version is None:
        patterns = ["HEAD"]
    elif version.startswith("refs/"):
        patterns = [version, f"{version}^{{}}"]
    else:
        patterns = [f"refs/heads/{version}", f"refs/tags/{version}", f"refs/tags/{version}^{{}}"]
    try:
        out = run_git(["ls-remote", "--symref", url, *patterns], trusted=True)
    except GitFailed as exc:
        raise SourceError(
            f"cannot reach {describe(shown, version)}: {exc.detail}",
            hint="check the URL, your network and your git credentials; a full "
            "commit sha runs from the cache without the network",
        ) from exc
    return parse_ls_remote(out)


def parse_ls_remote(out: str) -> RemoteRefs:
    refs: dict[str, str] = {}
    head_target = None
    for line in out.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: "):
            if name == "HEAD":
                head_target = left[len("ref: ") :].strip()
        elif is_full_sha(left):
            refs[name.strip()] = left.lower()
    return RemoteRefs(refs, head_target)


def _peeled(refs: RemoteRefs, name: str) -> str | None:
    return refs.refs.get(f"{name}^{{}}") or refs.refs.get(name)


def resolve(refs: RemoteRefs, version: str | None, shown: str) -> Resolved | None:
    """The commit a version names on the remote; None when no ref has that name (the caller may
    then try it as an abbreviated sha)."""
    if version is None:
        sha = refs.refs.get("HEAD")
        if sha is None:
            raise SourceError(
                f"{shown} has no default branch (HEAD); is the repository empty?",
                hint="give a branch, tag or commit with --version",
            )
        return Resolved(sha)
    if version.startswith("refs/"):
        sha = _peeled(refs, version)
        if sha is None:
            return None
        return Resolved(
            sha, branch=_short(version, "refs/heads/"), tag=_short(version, "refs/tags/")
        )
    branch_sha = refs.refs.get(f"refs/heads/{version}")
    tag_sha = _peeled(refs, f"refs/tags/{version}")
    if branch_sha and tag_sha and branch_sha != tag_sha:
        raise SourceError(
            f"version '{version}' of {shown} is both a branch and a tag, at different commits",
            hint=f"say which: refs/heads/{version} or refs/tags/{version}",
        )
    sha = branch_sha or tag_sha
    if sha is None:
        return None
    return Resolved(sha, branch=version if branch_sha else None, tag=version if tag_sha else None)


def _short(ref: str, prefix: str) -> str | None:
    return ref[len(prefix) :] if ref.startswith(prefix) else None
