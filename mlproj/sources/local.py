"""A local project directory: which git work tree owns it, at which commit, and how dirty.

Read-only: nothing here writes to the user's repository (status runs without optional locks).
"""

from __future__ import annotations

from pathlib import Path

from mlproj._util.record import Record
from mlproj.sources.base import GitInfo
from mlproj.sources.git.cmd import GitFailed, run_git
from mlproj.sources.uri import strip_credentials

MAX_DIFF_BYTES = 10 * 1024 * 1024  # a modified data file must not become a 1 GB tag/artifact
_READ_ONLY = {"GIT_OPTIONAL_LOCKS": "0"}


class LocalRepo(Record):
    root: Path  # the work tree's top directory (resolved)
    head: str  # full sha of HEAD
    rel: str  # the project directory relative to root, "" at the root


def find_repo(directory: Path) -> LocalRepo | None:
    """The git work tree that owns `directory`, if it has a commit and tracks the directory.

    An enclosing repository that merely contains an untracked or ignored project is not the
    project's repository: claiming its commit would record a version that does not hold the code.
    """
    directory = directory.resolve()
    if not _may_be_in_repository(directory):
        return None
    try:
        lines = run_git(["rev-parse", "--show-toplevel", "HEAD"], cwd=directory).splitlines()
    except GitFailed:
        return None  # not in a work tree, inside .git, or no commit yet
    if len(lines) < 2:
        return None
    root = Path(lines[0]).resolve()
    rel = directory.relative_to(root).as_posix() if directory != root else ""
    if rel and not _tracks(root, rel):
        return None
    return LocalRepo(root=root, head=lines[1].strip(), rel=rel)


def _may_be_in_repository(directory: Path) -> bool:
    """False when git would surely find no repository: no `.git` (nor a repository's `HEAD`) in
    `directory` or above it. Starting git costs more than the rest of a warm run."""
    return any(
        (path / ".git").exists() or (path / "HEAD").is_file()
        for path in (directory, *directory.parents)
    )


def _tracks(root: Path, rel: str) -> bool:
    out = run_git(["ls-files", "-z", "--", f":(literal){rel}/"], cwd=root, env=_READ_ONLY)
    return bool(out)


def source_name(repo: LocalRepo) -> str:
    """MLflow's form for a project in a git work tree: `file://<root>#<sub path>`."""
    return f"file://{repo.root}" + (f"#{repo.rel}" if repo.rel else "")


def first_remote_url(root: Path) -> str | None:
    try:
        out = run_git(["config", "-z", "--get-regexp", r"^remote\..*\.url$"], cwd=root)
    except GitFailed:
        return None  # no remote configured
    entry = out.split("\0", 1)[0]
    _, _, url = entry.partition("\n")
    return strip_credentials(url) if url else None


def inspect(repo: LocalRepo) -> GitInfo:
    """Commit, first remote, dirty flag and (when dirty) the diff against HEAD."""
    status = run_git(
        ["status", "--porcelain=v1", "-z", "--untracked-files=normal"],
        cwd=repo.root,
        env=_READ_ONLY,
    )
    untracked, changed = _parse_status(status)
    dirty = bool(untracked or changed)
    return GitInfo(
        commit=repo.head,
        repo_url=first_remote_url(repo.root),
        dirty=dirty,
        diff=_diff(repo.root, untracked) if dirty else None,
        untracked=tuple(untracked),
    )


def _parse_status(status: str) -> tuple[list[str], list[str]]:
    untracked: list[str] = []
    changed: list[str] = []
    fields = iter(status.split("\0"))
    for entry in fields:
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
        else:
            changed.append(path)
            if "R" in code or "C" in code:
                next(fields, None)  # the rename's source path
    return untracked, changed


def _diff(root: Path, untracked: list[str]) -> str:
    """`git diff HEAD`, preceded by the untracked files' names (which it cannot contain).

    The header lines come before the first `diff --git`, where `git apply` ignores text.
    """
    header = ""
    if untracked:
        names = "".join(f"#   {name}\n" for name in untracked)
        header = f"# untracked files (not part of this diff):\n{names}"
    body = run_git(
        ["diff", "--no-color", "--no-ext-diff", "--no-textconv", "HEAD", "--"],
        cwd=root,
        env=_READ_ONLY,
    )
    text = header + body
    if len(text) > MAX_DIFF_BYTES:
        text = text[:MAX_DIFF_BYTES] + "\n# diff truncated at 10 MB\n"
    return text
