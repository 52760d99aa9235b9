"""What fetching a project yields."""

from __future__ import annotations

from pathlib import Path

from mlproj._util.record import Record


class GitInfo(Record):
    commit: str  # full 40-hex sha of HEAD
    repo_url: str | None = None  # first remote (or the URL cloned), credentials stripped
    branch: str | None = None  # set when the user asked for a branch
    tag: str | None = None  # set when the user asked for a tag
    dirty: bool = False
    diff: str | None = None  # `git diff HEAD` of a dirty local work tree
    untracked: tuple[str, ...] = ()  # untracked files of a dirty work tree (not in the diff)


class FetchedProject(Record):
    directory: Path  # absolute: the project dir (subdirectory applied), the command's cwd
    source_name: str  # value of the `mlflow.source.name` tag
    git: GitInfo | None = None
    version: str | None = None  # what the user asked for with -v/--version
