"""Code run in separate processes by the concurrency tests (importable for `spawn`)."""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable
from typing import Any

import pytest


def run_together(
    target: Callable[..., None], args: list[tuple[Any, ...]], timeout: float
) -> list[tuple[Any, ...]]:
    """Start one spawned process per args tuple, each called as target(*args, barrier,
    results), and collect what each one puts on `results`."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(args)), ctx.Queue()
    workers = [ctx.Process(target=target, args=(*a, barrier, results)) for a in args]
    for worker in workers:
        worker.start()
    try:
        return [results.get(timeout=timeout) for _ in workers]
    except queue.Empty:
        pytest.fail("a worker neither finished nor reported an error")
    finally:
        for worker in workers:
            worker.join(timeout=30)


def fetch_and_hold(
    url: str, version: str | None, home: str, ident: int, barrier: Any, results: Any
) -> None:
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
