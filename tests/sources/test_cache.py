"""The clone cache: credentials never stored, checkouts cleaned between runs and never shared
by concurrent runs, submodules, and several processes fetching one URL at once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlproj.errors import SourceError
from mlproj.paths import cache_root
from mlproj.sources import fetch_project, release
from tests.sources.conftest import CREDENTIALS
from tests.sources.gitrepos import (
    GitDaemon,
    GitHTTPServer,
    Upstream,
    git,
    make_super_repo,
    make_upstream,
)


def files_containing(root: Path, needle: bytes) -> list[Path]:
    hits = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath, name)
            if not path.is_symlink() and needle in path.read_bytes():
                hits.append(path)
    return hits


def test_credentials_are_used_but_never_recorded_or_stored(
    http_server: GitHTTPServer, upstream: Upstream
) -> None:
    url = http_server.url("demo.git", CREDENTIALS)
    clean = http_server.url("demo.git")
    project = fetch_project(f"{url}#sub/v1.2", "feature")
    assert project.git is not None and project.git.commit == upstream.c3
    assert project.git.repo_url == clean
    assert project.source_name == f"{clean}#sub/v1.2"
    assert files_containing(cache_root(), b"s3cret") == []


def test_missing_credentials_fail_instead_of_prompting(http_server: GitHTTPServer) -> None:
    with pytest.raises(SourceError, match="terminal prompts disabled"):
        fetch_project(http_server.url("demo.git"))
    with pytest.raises(SourceError, match="Authentication failed"):
        fetch_project(http_server.url("demo.git", "alice:wrong"))


def test_a_previous_run_leaves_nothing_behind(upstream: Upstream) -> None:
    first = fetch_project(upstream.bare.as_uri(), "feature")
    work = first.directory
    marker_inode = (work / "MLproject").stat().st_ino
    (work / "version.txt").write_text("scribbled\n")
    (work / "untracked.txt").write_text("x")
    (work / "out").mkdir()
    (work / "out" / "model.bin").write_text("ignored by .gitignore")
    (work / "sub" / "v1.2" / "MLproject").unlink()
    git("checkout", "-q", "-b", "experiment", cwd=work)
    release(first)

    again = fetch_project(upstream.bare.as_uri(), "feature")
    assert again.directory == work
    assert (work / "version.txt").read_text() == "feature\n"
    assert not (work / "untracked.txt").exists() and not (work / "out").exists()
    assert (work / "sub" / "v1.2" / "MLproject").is_file()
    assert git("rev-parse", "HEAD", cwd=work) == upstream.c3
    assert git("status", "--porcelain", "--ignored", cwd=work) == ""
    assert (work / "MLproject").stat().st_ino == marker_inode  # cleaned, not re-cloned


def test_clean_checkout_is_reused_as_is(upstream: Upstream) -> None:
    first = fetch_project(upstream.bare.as_uri(), upstream.c1)
    inode = (first.directory / "version.txt").stat().st_ino
    release(first)
    again = fetch_project(upstream.bare.as_uri(), upstream.c1)
    assert again.directory == first.directory
    assert (again.directory / "version.txt").stat().st_ino == inode


def test_broken_checkout_is_rebuilt(upstream: Upstream) -> None:
    import shutil

    first = fetch_project(upstream.bare.as_uri(), upstream.c1)
    shutil.rmtree(first.directory / ".git")
    release(first)
    again = fetch_project(upstream.bare.as_uri(), upstream.c1)
    assert again.directory == first.directory
    assert git("rev-parse", "HEAD", cwd=again.directory) == upstream.c1


def test_concurrent_runs_of_one_commit_get_their_own_checkouts(upstream: Upstream) -> None:
    one = fetch_project(upstream.bare.as_uri(), "main")
    two = fetch_project(upstream.bare.as_uri(), "main")
    assert one.directory != two.directory
    assert {p.directory.name for p in (one, two)} == {upstream.c2, f"{upstream.c2}-1"}
    release(one)
    release(two)
    assert fetch_project(upstream.bare.as_uri(), "main").directory == one.directory


@pytest.fixture(scope="module")
def super_repo(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return make_super_repo(upstream.bare.parent, tmp_path_factory.mktemp("super"))


@pytest.mark.parametrize("transport", ["file", "git-daemon", "http"])
def test_submodules_are_checked_out(
    request: pytest.FixtureRequest, upstream: Upstream, super_repo: tuple[str, str], transport: str
) -> None:
    if transport == "file":
        url = (upstream.bare.parent / "super.git").as_uri()
    elif transport == "git-daemon":
        url = request.getfixturevalue("daemon").url("super.git")
    else:
        url = request.getfixturevalue("http_server").url("super.git", CREDENTIALS)
    project = fetch_project(url)
    assert project.git is not None and project.git.commit == super_repo[0]
    assert (project.directory / "lib" / "lib.txt").read_text() == "library\n"
    assert git("rev-parse", "HEAD", cwd=project.directory / "lib") == super_repo[1]
    assert files_containing(cache_root(), b"s3cret") == []

    (project.directory / "lib" / "lib.txt").write_text("changed by a run\n")
    (project.directory / "lib" / "junk").write_text("x")
    release(project)
    again = fetch_project(url)
    assert again.directory == project.directory
    assert (again.directory / "lib" / "lib.txt").read_text() == "library\n"
    assert not (again.directory / "lib" / "junk").exists()


def test_many_processes_fetch_one_url_at_once(tmp_path: Path, own_daemon: GitDaemon) -> None:
    from tests.sources.workers import fetch_and_hold, run_together

    up = make_upstream(tmp_path)
    own_daemon.start()
    count = 4
    url, home = own_daemon.url(up.bare.name), str(cache_root())
    outcomes = run_together(
        fetch_and_hold, [(url, "feature", home, i) for i in range(count)], timeout=180
    )
    errors = [o[4] for o in outcomes if o[4]]
    assert errors == []
    assert {o[2] for o in outcomes} == {up.c3}
    assert len({o[1] for o in outcomes}) == count  # each its own checkout
    assert all(o[3] for o in outcomes)  # and nobody wrote into another's
    repos = list((cache_root() / "git").glob("*/repo.git"))
    assert len(repos) == 1
    git("--git-dir", str(repos[0]), "fsck", "--no-progress")
