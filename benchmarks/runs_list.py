"""`mlproj runs list` vs `mlflow.search_runs` on the same file store, side by side.

Builds an mlruns/ store of N runs (10 params, 10 metrics of 3 points, 5 tags each) with
mlproj's file store, then times, best of several rounds, warm file cache, wall and CPU:
  * mlproj in process: `runs list` as shown (50 newest) and with every run fully loaded;
  * mlproj CLI: `python -m mlproj runs list` and `... --limit 0 --json` (whole process);
  * mlflow: `mlflow.search_runs` (pandas, the default) and with output_format="list".

    python benchmarks/runs_list.py [--runs 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlproj.commands.runs import listing
from mlproj.tracking.base import Metric
from mlproj.tracking.stores.file import FileStore


def build_store(root: Path, runs: int) -> tuple[FileStore, str]:
    store = FileStore(root.as_uri())
    experiment = store.resolve_experiment("bench", None)
    now = int(time.time() * 1000)
    for i in range(runs):
        tags = {"mlflow.user": "bench", "mlflow.source.type": "PROJECT", "team": f"t{i % 3}"}
        info = store.create_run(
            experiment, user_id="bench", start_time=now + i, tags=tags, run_name=None
        )
        store.log_params(info.run_id, {f"p{k}": str(i * 0.001 + k) for k in range(10)})
        points = [
            Metric(f"m{k}", (i + k + step) / 100, now + step, step)
            for k in range(10)
            for step in range(3)
        ]
        store.log_metrics(info.run_id, points)
        store.set_terminated(info.run_id, "FINISHED", now + i + 1000)
    return store, experiment


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, best round
    cpu: float  # seconds of CPU (user + sys, children included), best round


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_of(rounds: int, func: Callable[[], object]) -> Timing:
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), _cpu()
        func()
        walls.append(time.perf_counter() - wall)
        cpus.append(_cpu() - cpu)
    return Timing(min(walls), min(cpus))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    with tempfile.TemporaryDirectory(prefix="mlproj-bench-") as tmp:
        root = Path(tmp, "mlruns")
        start = time.perf_counter()
        store, experiment = build_store(root, args.runs)
        print(f"built {args.runs} runs in {time.perf_counter() - start:.1f}s at {root}")
        results = measure(store, experiment, root, args.runs, args.rounds)
    report(results, args.runs, args.rounds)


def measure(
    store: FileStore, experiment: str, root: Path, runs: int, rounds: int
) -> dict[str, Timing]:
    def ours_default() -> None:  # what `mlproj runs list` does: 50 newest, as a table
        listing.render_list(listing.list_runs(store, [], None, [], 50))

    def ours_all() -> None:  # what `mlproj runs list --limit 0 --json` does: every run, fully
        result = listing.list_runs(store, [], None, [], None)
        assert len([listing.run_dict(r) for r in result.runs]) == runs

    env = {**os.environ, "MLFLOW_TRACKING_URI": root.as_uri()}
    cli = [sys.executable, "-m", "mlproj", "runs", "list"]

    def cli_default() -> None:
        subprocess.run(cli, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def cli_all() -> None:
        subprocess.run([*cli, "--limit", "0", "--json"], env=env, stdout=subprocess.DEVNULL)

    import mlflow

    mlflow.set_tracking_uri(root.as_uri())

    def mlflow_pandas() -> None:
        assert len(mlflow.search_runs([experiment], max_results=runs + 1)) == runs

    def mlflow_list() -> None:
        found = mlflow.search_runs([experiment], max_results=runs + 1, output_format="list")
        assert len(found) == runs

    ours_all()  # warm the file cache
    few = max(1, rounds // 2)
    return {
        "mlproj runs list (in process, 50 shown)": best_of(rounds, ours_default),
        "mlproj runs list (in process, all loaded)": best_of(rounds, ours_all),
        "python -m mlproj runs list": best_of(rounds, cli_default),
        "python -m mlproj runs list --limit 0 --json": best_of(rounds, cli_all),
        "mlflow.search_runs (pandas)": best_of(few, mlflow_pandas),
        "mlflow.search_runs (output_format=list)": best_of(few, mlflow_list),
    }


def report(results: dict[str, Timing], runs: int, rounds: int) -> None:
    print(f"\n{runs} runs, 10 params + 10 metrics + 5 tags each; best of {rounds} rounds")
    print(f"  {'':44s} {'wall':>9s} {'cpu':>9s}")
    for name, t in results.items():
        print(f"  {name:44s} {t.wall * 1000:7.1f}ms {t.cpu * 1000:7.1f}ms")
    mine = results["mlproj runs list (in process, all loaded)"]
    for name in ("mlflow.search_runs (pandas)", "mlflow.search_runs (output_format=list)"):
        ratio = results[name].wall / mine.wall
        print(f"{name} / mlproj (all loaded): {ratio:.1f}x slower")


if __name__ == "__main__":
    main()
