"""Fixtures for the sources tests: one upstream repository served over file://, git:// and
http:// (with Basic auth), shared read-only by the tests of a session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sources.gitrepos import GitDaemon, GitHTTPServer, Upstream, make_upstream

CREDENTIALS = "alice:s3cret-token"


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Upstream:
    return make_upstream(tmp_path_factory.mktemp("upstream"))


@pytest.fixture(scope="session")
def daemon(upstream: Upstream) -> Iterator[GitDaemon]:
    server = GitDaemon(upstream.bare.parent).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def http_server(upstream: Upstream) -> Iterator[GitHTTPServer]:
    server = GitHTTPServer(upstream.bare.parent, credentials=CREDENTIALS).start()
    yield server
    server.stop()


@pytest.fixture(params=["file", "git-daemon"])
def remote_url(request: pytest.FixtureRequest, upstream: Upstream) -> str:
    """The upstream's URL over each transport."""
    if request.param == "file":
        return upstream.bare.as_uri()
    daemon: GitDaemon = request.getfixturevalue("daemon")
    return daemon.url(upstream.bare.name)


@pytest.fixture
def own_daemon(tmp_path: Path) -> Iterator[GitDaemon]:
    """A daemon (not started) that a test may stop: serves tmp_path/served."""
    (tmp_path / "served").mkdir(exist_ok=True)
    server = GitDaemon(tmp_path / "served")
    yield server
    server.stop()
