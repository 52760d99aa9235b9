"""Item 2: a repository's own config never makes mlproj's git calls run a program.

Each knob is first shown to fire with plain git on the same repository (so the test can fail),
then `mlproj run --dry-run` (which runs git rev-parse/ls-files/config/status/diff there) must
leave no marker.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.sources.gitrepos import commit_files, git

MLPROJECT = "name: p\nentry_points:\n  main:\n    command: 'echo hi'\n"

# knob -> (config pairs, the plain git command that fires it)
KNOBS: dict[str, tuple[dict[str, str], list[str]]] = {
    "core.fsmonitor": ({"core.fsmonitor": "touch {m}; false"}, ["status", "--porcelain"]),
    "filter.clean": (
        {"filter.x.clean": "touch {m}; cat", "filter.x.required": "true"},
        ["status", "--porcelain"],
    ),
    "filter.process": ({"filter.x.process": "touch {m}"}, ["status", "--porcelain"]),
    "diff.textconv": ({"diff.y.textconv": "touch {m}; cat"}, ["diff", "HEAD"]),
    "diff.command": ({"diff.y.command": "touch {m}; true"}, ["diff", "HEAD"]),
    "diff.external": ({"diff.external": "touch {m}; true"}, ["diff", "HEAD"]),
    "core.hooksPath": ({"core.hooksPath": "{hooks}"}, ["status", "--porcelain"]),
}


def _hostile_repo(root: Path, knob: str) -> tuple[Path, Path]:
    repo, marker, hooks = root / "repo", root / "PWNED", root / "hooks"
    repo.mkdir()
    hooks.mkdir()
    # hooks a status that writes the index would run
    for name in ("post-index-change", "reference-transaction", "post-checkout"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
        hook.chmod(0o755)
    git("init", "-q", cwd=repo)
    commit_files(
        repo,
        {"MLproject": MLPROJECT, "data.txt": "a\n", ".gitattributes": "*.txt filter=x diff=y\n"},
        "init",
    )
    for key, value in KNOBS[knob][0].items():
        git("config", key, value.format(m=marker, hooks=hooks), cwd=repo)
    time.sleep(1.1)  # a new mtime: status must look at the file's content again
    (repo / "data.txt").write_text("b\n")  # dirty: mlproj runs status and diff
    return repo, marker


@pytest.mark.parametrize("knob", sorted(set(KNOBS) - {"core.hooksPath"}))
def test_plain_git_fires_the_knob(tmp_path: Path, knob: str) -> None:
    repo, marker = _hostile_repo(tmp_path, knob)
    subprocess.run(["git", *KNOBS[knob][1]], cwd=repo, capture_output=True, check=False)
    assert marker.exists(), f"{knob} did not fire with plain git: the test proves nothing"


@pytest.mark.parametrize("knob", sorted(KNOBS))
def test_mlproj_never_runs_repo_config_programs(tmp_path: Path, knob: str) -> None:
    repo, marker = _hostile_repo(tmp_path, knob)
    done = run_cli(["run", str(repo), "--dry-run", "--env-manager", "local"], cwd=tmp_path)
    assert not marker.exists(), f"{knob} ran: {done.stderr}"
    assert done.returncode == 0, done.stderr


def test_plain_git_runs_filters_and_hooks_when_index_written(tmp_path: Path) -> None:
    """core.hooksPath: a status that may write the index runs post-index-change."""
    repo, marker = _hostile_repo(tmp_path, "core.hooksPath")
    subprocess.run(["git", "add", "data.txt"], cwd=repo, capture_output=True, check=False)
    assert marker.exists()


def test_cwd_inside_a_hostile_repo_is_not_read(tmp_path: Path) -> None:
    """git commands that name no repository (ls-remote) must not read the caller's cwd repo."""
    hostile, marker = tmp_path / "here", tmp_path / "PWNED"
    hostile.mkdir()
    git("init", "-q", cwd=hostile)
    git("config", "core.sshCommand", f"touch {marker}; false", cwd=hostile)
    url = "ssh://git@127.0.0.1:1/nothing.git"
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_SSH", "GIT_SSH_COMMAND")}
    subprocess.run(["git", "ls-remote", url], cwd=hostile, env=env, capture_output=True)
    assert marker.exists(), "plain git did not run core.sshCommand: the test proves nothing"
    marker.unlink()
    done = run_cli(["run", url, "--dry-run"], cwd=hostile)
    assert done.returncode != 0
    assert not marker.exists(), done.stderr
