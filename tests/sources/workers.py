"""Code run in separate processes by the concurrency tests (importable for `spawn`)."""

from __future__ import annotations

import os
from typing import Any


def fetch_and_hold(url: str, version: str | None, home: str, ident: int, barrier: Any,
                   results: Any) -> None:
    """Fetch, mark the checkout as ours, wait until every worker has fetched, then check that
    nobody else wrote into our checkout (each concurrent run must get its own directory)."""
    os.environ["MLPROJ_HOME"] = home
    from mlproj.sources import fetch_project

    try:
        project = fetch_project(url, version)
        (project.directory / "owner.txt").write_text(str(ident))
        barrier.wait(timeout=120)
        owner = (project.directory / "owner.txt").read_text()
        commit = project.git.commit if project.git else None
        results.put((ident, str(project.directory), commit, owner == str(ident), None))
    except Exception as exc:  # reported to the test, which fails with the message
        barrier.abort()
        results.put((ident, None, None, False, f"{type(exc).__name__}: {exc}"))
