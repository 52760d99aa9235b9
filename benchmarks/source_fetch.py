"""How long does the source step take for a git project, first time and again?

A repository (300 files, 30 commits) is served by a local `git daemon`; each fetch runs in a
fresh Python process, as `mlproj run` would, and times `fetch_project` inside it:
  first   : empty cache: ls-remote, full fetch into the bare cache, checkout
  second  : same commit by full sha: no network, the cached checkout verified clean
  branch  : same commit by branch name: one ls-remote, then the cached checkout
  dirty   : same commit after a run wrote into the checkout: reset + clean
For comparison, `mlflow run`'s algorithm (git init + fetch --depth 1 + checkout into a new temp
dir, on every run) is timed with plain git. The second fetch must stay under 0.1 s.
Usage: python benchmarks/source_fetch.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 0.1
GIT_ID = {
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.invalid",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.invalid",
}

TIMED_FETCH = """
import json, sys, time
t0 = time.perf_counter()
from mlproj.sources import fetch_project
t1 = time.perf_counter()
p = fetch_project(sys.argv[1], sys.argv[2] or None)
t2 = time.perf_counter()
if len(sys.argv) > 3:
    (p.directory / "output.txt").write_text("a run wrote this")
print(json.dumps({"import": t1 - t0, "fetch": t2 - t1, "commit": p.git.commit}))
"""


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ID},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def make_repo(root: Path) -> Path:
    work = root / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", str(work))
    for i in range(300):
        (work / "src" / f"m{i // 50}").mkdir(parents=True, exist_ok=True)
        (work / "src" / f"m{i // 50}" / f"f{i}.py").write_text(f"VALUE = {i}\n" * 40)
    (work / "MLproject").write_text("name: bench\n")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "initial", cwd=work)
    for i in range(29):
        (work / "src" / "m0" / "f0.py").write_text(f"VALUE = {i}\n")
        git("commit", "-q", "-am", f"change {i}", cwd=work)
    served = root / "served"
    served.mkdir()
    git("clone", "-q", "--bare", str(work), str(served / "bench.git"))
    return served


def start_daemon(served: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            f"--base-path={served}",
            "--export-all",
            "--listen=127.0.0.1",
            f"--port={port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("git daemon did not start")


def fetch(url: str, version: str, env: dict[str, str], dirty: bool = False) -> dict[str, float]:
    argv = [sys.executable, "-c", TIMED_FETCH, url, version] + (["dirty"] if dirty else [])
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out)
    return result


def mlflow_style_clone(url: str, root: Path) -> float:
    """What `mlflow run` does on every run: a new temp dir, init, fetch --depth 1, checkout."""
    start = time.perf_counter()
    dst = Path(tempfile.mkdtemp(dir=root))
    git("init", "-q", str(dst))
    git("remote", "add", "origin", url, cwd=dst)
    git("fetch", "-q", "--depth=1", "origin", "main", cwd=dst)
    git("checkout", "-q", "-b", "main", "FETCH_HEAD", cwd=dst)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlproj-bench-") as tmp:
        root = Path(tmp)
        served = make_repo(root)
        daemon, port = start_daemon(served)
        try:
            url = f"git://127.0.0.1:{port}/bench.git"
            env = {**os.environ, "MLPROJ_HOME": str(root / "home")}
            first = fetch(url, "", env)
            sha = str(first["commit"])
            second = [fetch(url, sha, env) for _ in range(args.repeat)]
            branch = [fetch(url, "main", env) for _ in range(args.repeat)]
            dirty = []
            for _ in range(args.repeat):
                fetch(url, sha, env, dirty=True)  # a run writes into the checkout
                dirty.append(fetch(url, sha, env))
            mlflow = [mlflow_style_clone(url, root) for _ in range(args.repeat)]
        finally:
            os.killpg(daemon.pid, signal.SIGTERM)
            daemon.wait(timeout=10)

    def med(samples: list[dict[str, float]], key: str = "fetch") -> float:
        return statistics.median(s[key] for s in samples)

    rows = [
        ("first fetch (empty cache)", first["fetch"]),
        ("second fetch, full sha (cached)", med(second)),
        ("second fetch, branch (ls-remote + cached)", med(branch)),
        ("second fetch after a run wrote into it", med(dirty)),
        ("mlflow-style clone, every run", statistics.median(mlflow)),
        ("import mlproj.sources (fresh process)", med(second, "import")),
    ]
    for label, seconds in rows:
        print(f"{label:45s} {seconds * 1000:8.1f} ms")
    ok = med(second) < BUDGET_S
    print(f"second fetch of the same commit < {BUDGET_S * 1000:.0f} ms: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
