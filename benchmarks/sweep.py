"""The example swept over epochs {1,2} x conv_size {3,5}: three ways to train the four models.

    python benchmarks/sweep.py [--jobs 2] [--mlflow-env-manager uv] [--no-mlflow]

- sweep:      mlproj sweep examples/cnn_project -P epochs=1,2 -P conv_size=3,5 --jobs 2
              --env-manager virtualenv   (one parent run, four nested runs)
- sequential: the same four `mlproj run ... --env-manager virtualenv`, one after another
- mlflow:     a four-run loop of `mlflow.projects.run(...)` in one Python process, as the MLflow
              overview trains its example (`--mlflow-env-manager`, default uv: MLflow's
              virtualenv manager installs the conda.yml's `python=3.11` through pyenv, which needs
              a download; uv shares its code path and env cache and finds the local 3.11)

Each contender gets its own store and a warm environment (built, then one warm-up run
untimed), so the timings compare the runs, not the first build. Prints each wall time and the
ratios; target: the sweep at most 0.6x the sequential loop on a 2-core machine. Timings taken
on a machine busy with other work are noisy: run it on an idle one for a figure to quote.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "cnn_project"
GRID = [(epochs, size) for epochs in (1, 2) for size in (3, 5)]

MLFLOW_LOOP = """
import sys, mlflow
uri, manager = sys.argv[1], sys.argv[2]
for pair in sys.argv[3:]:
    epochs, size = pair.split(",")
    run = mlflow.projects.run(
        uri, entry_point="main", parameters={"epochs": epochs, "conv_size": size},
        env_manager=manager, synchronous=True,
    )
    assert run.get_status() == "FINISHED", run.get_status()
"""


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise SystemExit(f"failed ({done.returncode}): {' '.join(argv)}\n{tail}")
    return elapsed


def mlproj(*args: str) -> list[str]:
    return [sys.executable, "-m", "mlproj", *args]


def run_args(project: Path, store: Path, epochs: int, size: int) -> list[str]:
    return mlproj(
        "run", str(project), "--env-manager", "virtualenv", "--tracking-uri", str(store),
        "-P", f"epochs={epochs}", "-P", f"conv_size={size}", "-P", "device=cpu",
    )  # fmt: skip


def bench_mlproj(root: Path, project: Path, env: dict[str, str], jobs: int) -> dict[str, float]:
    print("mlproj: building the environment and a warm-up run (untimed) ...", flush=True)
    timed(run_args(project, root / "warmup", 1, 3), env, root)
    sweep = mlproj(
        "sweep", str(project), "--env-manager", "virtualenv",
        "--tracking-uri", str(root / "sweep"), "-P", "epochs=1,2", "-P", "conv_size=3,5",
        "-P", "device=cpu", "--jobs", str(jobs), "--metric", "val_accuracy", "--maximize",
    )  # fmt: skip
    print(f"mlproj sweep --jobs {jobs} ...", flush=True)
    result = {"sweep": timed(sweep, env, root)}
    print("four mlproj runs, one after another ...", flush=True)
    started = time.perf_counter()
    for epochs, size in GRID:
        timed(run_args(project, root / "sequential", epochs, size), env, root)
    result["sequential"] = time.perf_counter() - started
    return result


def bench_mlflow(root: Path, project: Path, env: dict[str, str], manager: str) -> float | None:
    try:
        import mlflow  # noqa: F401 - only to know whether it is there
    except ImportError:
        print("mlflow: not installed, skipped")
        return None
    env = dict(env, MLFLOW_TRACKING_URI=(root / "mlflow").as_uri(), MLFLOW_ALLOW_FILE_STORE="true")
    loop = [sys.executable, "-c", MLFLOW_LOOP, str(project), manager]
    print(f"mlflow: building its {manager} environment and a warm-up run (untimed) ...", flush=True)
    timed([*loop, "1,3"], env, root)
    print("mlflow.projects.run, four in a loop ...", flush=True)
    return timed([*loop, *(f"{e},{s}" for e, s in GRID)], env, root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--mlflow-env-manager", default="uv")
    parser.add_argument("--no-mlflow", action="store_true")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlproj-bench-sweep-") as tmp:
        root = Path(tmp)
        project = root / "cnn_project"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("mlruns", "__pycache__"))
        env = dict(os.environ, MLPROJ_HOME=str(root / "home"), MLFLOW_ENV_ROOT=str(root / "envs"))
        env.pop("MLFLOW_TRACKING_URI", None)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")]
        )
        ours = bench_mlproj(root, project, env, opts.jobs)
        theirs = (
            None if opts.no_mlflow else bench_mlflow(root, project, env, opts.mlflow_env_manager)
        )
    print(f"\ncpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (1 min)")
    print(f"mlproj sweep --jobs {opts.jobs}:       {ours['sweep']:7.1f} s")
    print(f"four mlproj runs in sequence: {ours['sequential']:7.1f} s")
    if theirs is not None:
        print(f"four mlflow.projects.run:     {theirs:7.1f} s")
    print(f"\nsweep / sequential: {ours['sweep'] / ours['sequential']:.2f}x  (target <= 0.6x)")
    if theirs is not None:
        print(f"sweep / mlflow loop: {ours['sweep'] / theirs:.2f}x")
        print(f"sequential mlproj / mlflow loop: {ours['sequential'] / theirs:.2f}x")


if __name__ == "__main__":
    main()
