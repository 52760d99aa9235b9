"""Fault injection: 200 runs of a project that prints and sleeps, each hit at a random moment by
SIGINT, SIGTERM or SIGKILL (to mlproj or to its child), a disk that fills up, or a tracking
server that stops. Afterwards every run is in a terminal state (after one `runs sync` and one
`runs list`), no process of any run is alive, no run directory lacks its meta.yaml, and no
earlier run's files changed."""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mlproj.tracking.stores.file import FileStore
from tests.conftest import run_cli
from tests.helpers import alive, wait_until
from tests.run.conftest import write_project
from tests.run.faults import RestartableServer, fill, small_disk

pytestmark = pytest.mark.slow

ITERATIONS = {"signals": 170, "disk": 20, "rest": 10}
TIME_BUDGET = 1500.0  # seconds for the whole test; it fails rather than run on
NOISY = """
    entry_points:
      main: {command: "python noisy.py"}
"""
NOISY_PY = """
    import os, subprocess, sys, time
    grandchild = subprocess.Popen(["sleep", "60"])
    os.makedirs("pids", exist_ok=True)
    with open(f"pids/{os.getpid()}.tmp", "w") as f:
        f.write(f"{os.getpid()} {grandchild.pid}\\n")
    os.rename(f"pids/{os.getpid()}.tmp", f"pids/{os.getpid()}.txt")
    for i in range(20):
        print("line", i, "x" * 200, flush=True)
        time.sleep(0.04)
    grandchild.kill()
"""
SIGNAL_FAULTS = [
    ("none", None, None),
    ("mlproj", signal.SIGINT, None),
    ("mlproj", signal.SIGTERM, None),
    ("mlproj", signal.SIGKILL, None),
    ("child", signal.SIGTERM, None),
    ("child", signal.SIGKILL, None),
]


def _start(proj: Path, uri: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlproj", "run", str(proj), "--env-manager", "local",
         "--tracking-uri", uri, "--grace", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def _signal_child(mlproj: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the entry point's process group leader (bash -c), as an OOM kill would."""
    pid = _entry_point(mlproj)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _entry_point(mlproj: subprocess.Popen[bytes]) -> int | None:
    for pid in _children_of(mlproj.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read().startswith(b"bash"):
                    return pid
        except OSError:
            pass
    return None


def _wait_for_moment(mlproj: subprocess.Popen[bytes], rng: random.Random) -> None:
    """A random moment: while mlproj starts (a third of the time), else while the entry point
    runs, so that faults hit both run creation and a live run even on a loaded machine."""
    if rng.random() < 1 / 3:
        time.sleep(rng.uniform(0.0, 0.5))
        return
    wait_until(
        lambda: _entry_point(mlproj) is not None or mlproj.poll() is not None,
        60,
        0.02,
        what="the entry point started",
    )
    time.sleep(rng.uniform(0.0, 0.8))


def _one_signal_run(proj: Path, uri: str, rng: random.Random) -> str:
    target, sig, _ = rng.choice(SIGNAL_FAULTS)
    mlproj = _start(proj, uri)
    _wait_for_moment(mlproj, rng)
    if sig is not None:
        if target == "mlproj":
            mlproj.send_signal(sig)
        else:
            _signal_child(mlproj, sig)
    mlproj.wait(timeout=120)
    return f"{target}:{signal.Signals(sig).name}" if sig is not None else "none"


def _run_snapshot(store: Path, seen: dict[str, str]) -> None:
    """Record a hash of every run directory that is in a terminal state now."""
    if not (store / "0" / "meta.yaml").is_file():
        return  # no run was created yet
    for run in FileStore(store.as_uri()).search_runs(["0"]):
        if run.info.status != "RUNNING" and run.info.run_id not in seen:
            seen[run.info.run_id] = _tree_hash(store / "0" / run.info.run_id)


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _check_store(store: Path, seen: dict[str, str]) -> Counter[str]:
    listed = run_cli(["runs", "list", "--tracking-uri", str(store), "--limit", "0", "-q"])
    assert listed.returncode == 0, listed.stderr
    runs = FileStore(store.as_uri()).search_runs(["0"])
    statuses = Counter(run.info.status for run in runs)
    assert "RUNNING" not in statuses, statuses
    for exp in (p for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")):
        # dot-directories are runs being created (mlproj and MLflow skip them)
        for run_dir in (p for p in exp.iterdir() if p.is_dir() and p.name[0] != "."):
            if run_dir.name in ("tags", "datasets", "traces", "models"):
                continue
            assert (run_dir / "meta.yaml").is_file(), f"{run_dir} has no meta.yaml"
    for run_id, digest in seen.items():
        assert _tree_hash(store / "0" / run_id) == digest, f"run {run_id} changed afterwards"
    return statuses


def _assert_no_survivors(proj: Path) -> int:
    pids = [int(p) for f in (proj / "pids").glob("*.txt") for p in f.read_text().split()]
    wait_until(
        lambda: not any(alive(p) for p in pids),
        30,
        0.2,
        what=f"no run process alive (left: {[p for p in pids if alive(p)]})",
    )
    return len(pids)


def test_runs_end_and_processes_go_under_random_faults(tmp_path: Path) -> None:
    rng = random.Random(20261130)
    started = time.monotonic()
    faults: Counter[str] = Counter()
    proj = write_project(tmp_path / "proj", NOISY, {"noisy.py": NOISY_PY})

    # 1. signals to mlproj or to its child, four runs at a time, on a file store
    store = tmp_path / "mlruns"
    seen: dict[str, str] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        pending = [
            pool.submit(_one_signal_run, proj, str(store), random.Random(rng.random()))
            for _ in range(ITERATIONS["signals"])
        ]
        for future in concurrent.futures.as_completed(pending):
            faults[future.result()] += 1
            _run_snapshot(store, seen)
            assert time.monotonic() - started < TIME_BUDGET, "over the time budget"

    # 2. the store's disk fills up at a random moment
    with small_disk(tmp_path / "disk", "4m") as disk:
        small_store = disk / "mlruns"
        FileStore(small_store.as_uri()).resolve_experiment(None, None)  # the store exists
        small_seen: dict[str, str] = {}
        for _ in range(ITERATIONS["disk"]):
            mlproj = _start(proj, str(small_store))
            _wait_for_moment(mlproj, rng)
            fill(disk)
            mlproj.wait(timeout=120)
            (disk / "filler").unlink()
            _run_snapshot(small_store, small_seen)
            faults["disk full"] += 1
        synced = run_cli(["runs", "sync"])
        assert synced.returncode == 0, synced.stderr
        disk_statuses = _check_store(small_store, small_seen)

    # 3. the tracking server stops at a random moment and comes back after the run
    server = RestartableServer(tmp_path / "server")
    server.start()
    try:
        for _ in range(ITERATIONS["rest"]):
            mlproj = _start(proj, server.url, {"MLPROJ_TRACKING_RETRY_SECONDS": "1"})
            _wait_for_moment(mlproj, rng)
            server.stop()
            mlproj.wait(timeout=120)
            server.start()
            faults["server stopped"] += 1
        synced = run_cli(["runs", "sync"])
        assert synced.returncode == 0, synced.stderr
        listed = run_cli(["runs", "list", "--tracking-uri", server.url, "--limit", "0", "--json"])
        assert listed.returncode == 0, listed.stderr
        rest_runs = server.client().search_runs(experiment_ids=["0"])  # type: ignore[attr-defined]
        rest_statuses = Counter(r.info.status for r in rest_runs)
        assert "RUNNING" not in rest_statuses, rest_statuses
    finally:
        server.stop()

    statuses = _check_store(store, seen)
    processes = _assert_no_survivors(proj)
    total = sum(faults.values())
    assert total == sum(ITERATIONS.values())
    print(
        f"\n{total} runs in {time.monotonic() - started:.0f} s; faults {dict(faults)}; "
        f"file store {dict(statuses)}; full disk {dict(disk_statuses)}; "
        f"server {dict(rest_statuses)}; {processes} run processes checked, none alive"
    )
