"""Local project directories: used in place, recorded MLflow's way, dirty state and diff, and
`--version` without touching the user's work tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlproj.errors import SourceError
from mlproj.sources import fetch_project
from tests.sources.gitrepos import commit_files, git, make_upstream


def snapshot(work: Path) -> dict[str, str]:
    """What a user would look at to see whether mlproj touched their repository."""
    return {
        "head": git("rev-parse", "HEAD", cwd=work),
        "branch": git("symbolic-ref", "-q", "HEAD", cwd=work),
        "remotes": git("remote", "-v", cwd=work),
        "status": git("status", "--porcelain", "--ignored", cwd=work),
        "branches": git("for-each-ref", cwd=work),
        "version.txt": (work / "version.txt").read_text(),
        "config": (work / ".git" / "config").read_text(),
    }


def test_plain_directory_is_used_in_place(tmp_path: Path) -> None:
    project = tmp_path / "plain"
    project.mkdir()
    fetched = fetch_project("plain", cwd=tmp_path)
    assert fetched.directory == project.resolve()
    assert fetched.source_name == str(project.resolve())
    assert fetched.git is None


def test_clean_repository_root(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    git(
        "remote",
        "add",
        "origin",
        "https://alice:s3cret@git.example.invalid/team/demo.git",
        cwd=up.work,
    )
    fetched = fetch_project(str(up.work))
    assert fetched.directory == up.work.resolve()
    assert fetched.source_name == f"file://{up.work.resolve()}"
    assert fetched.git is not None
    assert fetched.git.commit == up.c2
    assert fetched.git.repo_url == "https://git.example.invalid/team/demo.git"
    assert (fetched.git.dirty, fetched.git.diff, fetched.git.branch) == (False, None, None)


def test_subdirectory_of_a_repository(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    by_path = fetch_project(str(up.work / "sub" / "v1.2"))
    by_fragment = fetch_project(f"file://{up.work}#sub/v1.2")
    for fetched in (by_path, by_fragment):
        assert fetched.directory == (up.work / "sub" / "v1.2").resolve()
        assert fetched.source_name == f"file://{up.work.resolve()}#sub/v1.2"
        assert fetched.git is not None and fetched.git.commit == up.c2


def test_dirty_work_tree_records_the_diff(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    (up.work / "version.txt").write_text("2-local-edit\n")
    (up.work / "new_script.py").write_text("print('new')\n")
    (up.work / "out").mkdir()
    (up.work / "out" / "ignored.bin").write_text("ignored output\n")
    fetched = fetch_project(str(up.work))
    assert fetched.git is not None and fetched.git.dirty
    diff = fetched.git.diff or ""
    assert "-2\n+2-local-edit" in diff
    assert "new_script.py" in diff
    assert "ignored.bin" not in diff
    # The user's index was not touched (no `git add -N` or similar).
    assert git("diff", "--cached", "--name-only", cwd=up.work) == ""


def test_ignored_files_alone_do_not_make_a_tree_dirty(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    (up.work / "out").mkdir()
    (up.work / "out" / "model.pt").write_text("weights")
    fetched = fetch_project(str(up.work))
    assert fetched.git is not None and not fetched.git.dirty


@pytest.mark.parametrize("how", ["untracked", "ignored"])
def test_project_inside_an_unrelated_repository(tmp_path: Path, how: str) -> None:
    """The enclosing repository's commit does not describe an untracked project's code."""
    outer = tmp_path / "outer"
    outer.mkdir()
    git("init", "-q", str(outer))
    commit_files(outer, {"README": "outer\n", ".gitignore": "scratch/\n"}, "outer")
    project = outer / ("scratch" if how == "ignored" else "newproj") / "p"
    project.mkdir(parents=True)
    (project / "MLproject").write_text("name: p\n")
    fetched = fetch_project(str(project))
    assert fetched.git is None
    assert fetched.source_name == str(project.resolve())
    with pytest.raises(SourceError, match="--version needs a git project"):
        fetch_project(str(project), "main")


def test_repository_without_commits_has_no_git_info(tmp_path: Path) -> None:
    git("init", "-q", str(tmp_path / "empty"))
    fetched = fetch_project(str(tmp_path / "empty"))
    assert fetched.git is None


def test_version_on_a_plain_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="--version needs a git project"):
        fetch_project(str(tmp_path), "main")


@pytest.mark.parametrize(
    ("version", "expected", "branch", "tag"),
    [
        ("v1", "1", None, "v1"),
        ("feature", "feature", "feature", None),
        ("HEAD~1", "1", None, None),
    ],
)
def test_version_of_a_local_repository_leaves_it_untouched(
    tmp_path: Path, version: str, expected: str, branch: str | None, tag: str | None
) -> None:
    up = make_upstream(tmp_path)
    (up.work / "version.txt").write_text("uncommitted edit\n")  # must survive
    before = snapshot(up.work)
    fetched = fetch_project(str(up.work), version)
    assert snapshot(up.work) == before
    assert not fetched.directory.is_relative_to(up.work)
    assert (fetched.directory / "version.txt").read_text() == f"{expected}\n"
    assert fetched.git is not None
    assert (fetched.git.branch, fetched.git.tag, fetched.git.dirty) == (branch, tag, False)
    assert fetched.source_name == f"file://{up.work.resolve()}"


def test_version_of_a_local_subdirectory(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    fetched = fetch_project("sub#v1.2", up.c1[:8], cwd=up.work)
    assert fetched.directory.name == "v1.2"
    assert (fetched.directory / "MLproject").is_file()
    assert fetched.git is not None and fetched.git.commit == up.c1
    assert fetched.source_name == f"file://{up.work.resolve()}#sub/v1.2"


def test_unknown_local_version(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    with pytest.raises(SourceError, match="cannot find version 'nope' of file://"):
        fetch_project(str(up.work), "nope")


def test_missing_path_is_reported_as_a_path(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such project directory: \./nope$"):
        fetch_project("./nope", cwd=tmp_path)
    with pytest.raises(SourceError, match=r"no such project directory: projct$"):
        fetch_project("projct", cwd=tmp_path)


def test_file_is_not_a_project(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text("name: x\n")
    with pytest.raises(SourceError, match="not a directory"):
        fetch_project(str(tmp_path / "MLproject"))


def test_quotes_are_stripped(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    assert fetch_project("'p'", cwd=tmp_path).directory == (tmp_path / "p").resolve()


def test_local_symlink_escape_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    os.symlink(tmp_path, project / "up")
    with pytest.raises(SourceError, match="resolves outside the project"):
        fetch_project(f"{project}#up")


def test_missing_path_through_the_cli_is_one_line(tmp_path: Path) -> None:
    from tests.helpers import run_cli

    result = run_cli(["run", "./nope"], cwd=tmp_path)
    assert result.returncode == 1
    assert "no such project directory: ./nope" in result.stderr
    assert "Traceback" not in result.stderr


def test_diff_of_non_utf8_content_does_not_break(tmp_path: Path) -> None:
    up = make_upstream(tmp_path)
    (up.work / "version.txt").write_bytes(b"caf\xe9 latin-1\n")
    fetched = fetch_project(str(up.work))
    assert fetched.git is not None and fetched.git.dirty
    assert "latin-1" in (fetched.git.diff or "")


def test_importing_sources_loads_no_git_library() -> None:
    import subprocess
    import sys

    code = "import sys, mlproj.sources; print('git' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
