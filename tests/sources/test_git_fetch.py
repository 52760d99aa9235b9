"""Projects from git URLs, over file:// and a real git daemon: versions, subdirectories, what
is recorded, and the errors a user sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.errors import SourceError
from mlproj.sources import fetch_project, release
from tests.helpers import free_port
from tests.sources.gitrepos import GitDaemon, Upstream, make_ambiguous_repo


def version_of(directory: Path) -> str:
    return (directory / "version.txt").read_text().strip()


def test_default_branch(remote_url: str, upstream: Upstream) -> None:
    project = fetch_project(remote_url)
    assert version_of(project.directory) == "2"
    assert (project.directory / "MLproject").is_file()
    assert project.git is not None
    assert project.git.commit == upstream.c2
    assert (project.git.branch, project.git.tag, project.git.dirty) == (None, None, False)
    assert project.git.repo_url == remote_url
    assert project.source_name == remote_url
    assert project.version is None


@pytest.mark.parametrize(
    ("version", "commit", "expected", "branch", "tag"),
    [
        ("feature", "c3", "feature", "feature", None),
        ("v1", "c1", "1", None, "v1"),  # annotated tag: the commit, not the tag object
        ("light", "c2", "2", None, "light"),
        ("refs/heads/feature", "c3", "feature", "feature", None),
    ],
)
def test_branches_and_tags(
    remote_url: str,
    upstream: Upstream,
    version: str,
    commit: str,
    expected: str,
    branch: str | None,
    tag: str | None,
) -> None:
    project = fetch_project(remote_url, version)
    assert version_of(project.directory) == expected
    assert project.git is not None
    assert project.git.commit == getattr(upstream, commit)
    assert (project.git.branch, project.git.tag) == (branch, tag)
    assert project.version == version


def test_full_and_abbreviated_sha(remote_url: str, upstream: Upstream) -> None:
    full = fetch_project(remote_url, upstream.c1)
    short = fetch_project(remote_url, upstream.c3[:7])
    assert version_of(full.directory) == "1"
    assert version_of(short.directory) == "feature"
    assert full.git is not None and short.git is not None
    assert (full.git.commit, short.git.commit) == (upstream.c1, upstream.c3)
    assert full.git.branch is None and short.git.tag is None


def test_checkout_is_a_git_repo_at_the_commit(remote_url: str, upstream: Upstream) -> None:
    """Code in the run (and MLflow's own git probe) sees the commit and where it came from."""
    from tests.sources.gitrepos import git

    project = fetch_project(remote_url, "feature")
    assert git("rev-parse", "HEAD", cwd=project.directory) == upstream.c3
    assert git("remote", "get-url", "origin", cwd=project.directory) == remote_url
    assert git("status", "--porcelain", cwd=project.directory) == ""


@pytest.mark.parametrize("version", ["no-such-branch", "deadbeef", "0" * 40])
def test_unknown_version_names_url_and_version(remote_url: str, version: str) -> None:
    with pytest.raises(SourceError) as info:
        fetch_project(remote_url, version)
    line = info.value.one_line()
    assert f"cannot find version '{version}' of {remote_url}" in line
    assert "\n" not in line


def test_ambiguous_abbreviated_sha(tmp_path: Path) -> None:
    bare = tmp_path / "many.git"
    prefix = make_ambiguous_repo(bare)
    with pytest.raises(SourceError, match=f"version '{prefix}' .* is ambiguous"):
        fetch_project(bare.as_uri(), prefix)


def test_subdirectory_with_dots(remote_url: str) -> None:
    project = fetch_project(f"{remote_url}#sub/v1.2")
    assert project.directory.name == "v1.2"
    assert (project.directory / "MLproject").read_text() == "name: nested\n"
    assert project.source_name == f"{remote_url}#sub/v1.2"


def test_symlink_inside_the_project_is_a_valid_subdirectory(remote_url: str) -> None:
    project = fetch_project(f"{remote_url}#inside/v1.2")
    assert (project.directory / "MLproject").is_file()


@pytest.mark.parametrize(
    ("sub", "message"),
    [
        ("../..", "'..' is not allowed"),
        ("/etc", "absolute path"),
        ("escape", "resolves outside the project"),  # a symlink to / in the repository
        ("escape/etc", "resolves outside the project"),
        ("missing/dir", "subdirectory 'missing/dir' does not exist"),
        ("version.txt", "is not a directory"),
    ],
)
def test_bad_subdirectories(upstream: Upstream, sub: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        fetch_project(f"{upstream.bare.as_uri()}#{sub}")


def test_unreachable_server_is_one_line_naming_the_url() -> None:
    url = f"git://127.0.0.1:{free_port()}/nothing.git"
    with pytest.raises(SourceError) as info:
        fetch_project(url, "main")
    line = info.value.one_line()
    assert line.startswith(f"cannot reach {url} (version 'main'): ")
    assert "\n" not in line and "Traceback" not in line


def test_unknown_repository_on_a_live_server(daemon: GitDaemon) -> None:
    with pytest.raises(SourceError, match=r"cannot reach .*nothing\.git \(default branch\)"):
        fetch_project(daemon.url("nothing.git"))


def test_second_fetch_of_a_commit_needs_no_network(tmp_path: Path, own_daemon: GitDaemon) -> None:
    from tests.sources.gitrepos import make_upstream

    up = make_upstream(tmp_path)
    own_daemon.start()
    url = own_daemon.url(up.bare.name)
    first = fetch_project(url, up.c1)
    release(first)
    own_daemon.stop()
    again = fetch_project(url, up.c1)
    assert again.directory == first.directory
    assert version_of(again.directory) == "1"
    # A branch must be re-resolved on the server, so it fails now, and says how to run offline.
    with pytest.raises(SourceError) as info:
        fetch_project(url, "main")
    assert "Connection refused" in info.value.one_line()
    assert "a full commit sha runs from the cache" in info.value.one_line()


def test_cached_commit_survives_the_origin_being_deleted(tmp_path: Path) -> None:
    import shutil

    from tests.sources.gitrepos import make_upstream

    up = make_upstream(tmp_path)
    url = up.bare.as_uri()
    release(fetch_project(url, "feature"))
    shutil.rmtree(up.bare)
    assert version_of(fetch_project(url, up.c3).directory) == "feature"


def test_moved_branch_is_followed(tmp_path: Path) -> None:
    from tests.sources.gitrepos import commit_files, git, make_upstream

    up = make_upstream(tmp_path)
    url = up.bare.as_uri()
    assert version_of(fetch_project(url, "main").directory) == "2"
    new = commit_files(up.work, {"version.txt": "3\n"}, "fourth")
    git("push", "-q", str(up.bare), "main", cwd=up.work)
    moved = fetch_project(url, "main")
    assert moved.git is not None and moved.git.commit == new
    assert version_of(moved.directory) == "3"


@pytest.mark.parametrize(
    ("uri", "version"),
    [
        ("ext::sh -c touch% {canary}", None),
        ("fd::17", None),
        ("--upload-pack=touch {canary}", None),
        ("{origin}", "--upload-pack=touch {canary}"),
        ("{origin}", "-c"),
    ],
)
def test_unsafe_requests_run_nothing(
    tmp_path: Path, upstream: Upstream, uri: str, version: str | None
) -> None:
    canary = tmp_path / "pwned"
    fill = {"canary": canary, "origin": upstream.bare.as_uri()}
    with pytest.raises(SourceError, match="refusing"):
        fetch_project(uri.format(**fill), version and version.format(**fill))
    assert not canary.exists()


def test_cache_not_writable_is_one_line(
    tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("MLPROJ_HOME", str(blocker))
    with pytest.raises(SourceError, match=r"cannot prepare project .*home-is-a-file"):
        fetch_project(upstream.bare.as_uri())
