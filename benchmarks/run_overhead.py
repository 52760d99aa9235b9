"""How much does `mlproj run` add on top of running the entry point's command directly?

Side by side in one process, on the same trivial project (entry point `echo hi`):
  direct   : bash -c "echo hi"
  floor    : python -c "import click, yaml"   (the interpreter and the two libraries any
             click + PyYAML tool starts with: what mlproj cannot go below)
  bare     : the floor exiting without the interpreter's teardown, as mlproj does (cli.entry)
  mlproj   : mlproj run PROJECT --env-manager local   (file store, warm)
  mlflow   : mlflow run PROJECT --env-manager local   (if mlflow is installed)
The floor and mlproj run in a venv made like a user's install, with the `mlproj` console
script (benchmarks/installed.py): an editable install's finder would load part of mlproj's
imports into the floor too. Prints medians, the overhead above direct execution, mlproj's cost
above the floor, the ratio of overheads, and the peak RSS of each tool.
Usage: python benchmarks/run_overhead.py [--repeat N] [--instructions]

--instructions adds what load on a shared machine cannot blur: the instructions (valgrind's
callgrind, when installed) that the floor and one warm mlproj run execute, and the difference;
also against the floor minus the interpreter's teardown, which mlproj skips (cli.entry).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import install

MEASURE = (
    "import resource, subprocess, sys;"
    "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
    "sys.exit(r.returncode)"
)


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    """Wall time of argv, and the peak RSS (KiB) of its largest process."""
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - start
    return elapsed, int(out.stdout.strip() or 0)


def make_project(root: Path) -> Path:
    project = root / "trivial"
    project.mkdir()
    (project / "MLproject").write_text(
        'name: trivial\nentry_points:\n  main:\n    command: "echo hi"\n'
    )
    return project


def series(argv: list[str], cwd: Path, env: dict[str, str], repeat: int) -> tuple[float, int]:
    return interleaved({"one": argv}, cwd, env, repeat)["one"]


def interleaved(
    tools: dict[str, list[str]], cwd: Path, env: dict[str, str], repeat: int
) -> dict[str, tuple[float, int]]:
    """Median wall time and peak RSS of each tool, its runs taken in turn with the others'
    so that the machine's drift over minutes (a VM's neighbours) blurs them all alike."""
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in tools}
    for argv in tools.values():
        timed(argv, cwd, env)  # warm-up: caches, store creation, sqlite schema
    for _ in range(repeat):
        for name, argv in tools.items():
            samples[name].append(timed(argv, cwd, env))
    return {
        name: (statistics.median(s[0] for s in runs), max(s[1] for s in runs))
        for name, runs in samples.items()
    }


def instructions(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Instructions executed by argv's own process (not its children), counted by callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    counted = [line for line in out.stderr.splitlines() if "Collected :" in line]
    return int(counted[-1].split(":")[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlproj-bench-") as tmp:
        root = Path(tmp)
        python, mlproj = install(root)
        project = make_project(root)
        env = dict(os.environ, MLPROJ_HOME=str(root / "home"))
        env.pop("MLFLOW_TRACKING_URI", None)
        floor = [python, "-c", "import click, yaml"]
        run = [python, mlproj, "run", str(project), "--env-manager", "local"]
        run += ["--tracking-uri", str(root / "mlruns")]
        # mlproj exits without the interpreter's teardown; so could any tool: like with like
        bare = [python, "-c", "import click, yaml, os; os._exit(0)"]
        tools = {"direct": ["bash", "-c", "echo hi"], "floor": floor, "bare": bare, "mlproj": run}
        rows = interleaved(tools, root, env, args.repeat)
        mlflow = shutil.which("mlflow")
        if mlflow:
            flow_env = dict(env, MLFLOW_TRACKING_URI=f"sqlite:///{root}/mlflow.db")
            rows["mlflow"] = series(
                [mlflow, "run", str(project), "--env-manager", "local"],
                root,
                flow_env,
                max(3, args.repeat // 2),
            )
        direct = rows["direct"][0]
        print(f"{'tool':8} {'median s':>9} {'overhead s':>11} {'peak RSS MiB':>13}")
        for name, (seconds, rss) in rows.items():
            print(f"{name:8} {seconds:9.3f} {seconds - direct:11.3f} {rss / 1024:13.1f}")
        above = rows["mlproj"][0] - rows["floor"][0]
        print(f"mlproj above the python + click + PyYAML floor: {above * 1000:.0f} ms")
        above_bare = rows["mlproj"][0] - rows["bare"][0]
        print(f"mlproj above that floor without its teardown (bare): {above_bare * 1000:.0f} ms")
        # The target, from a machine where the floor's overhead was 45 ms: mlproj's below 60 ms.
        ours, floors = rows["mlproj"][0] - direct, rows["floor"][0] - direct
        print(f"mlproj's overhead / the floor's: {ours / floors:.2f}x (target: below 1.33x)")
        if args.instructions and shutil.which("valgrind"):
            base, ours_count = instructions(floor, root, env), instructions(run, root, env)
            bare_count = instructions(bare, root, env)
            print(
                f"instructions: mlproj / floor {ours_count / base:.2f}x, / bare "
                f"{ours_count / bare_count:.2f}x"
            )
            print(
                f"instructions: floor {base / 1e6:.0f} M ({bare_count / 1e6:.0f} M without its "
                f"teardown), mlproj run {ours_count / 1e6:.0f} M, above the floor "
                f"{(ours_count - base) / 1e6:.0f} M ({(ours_count - bare_count) / 1e6:.0f} M "
                "above the floor without its teardown)"
            )
        if "mlflow" in rows:
            theirs = rows["mlflow"][0] - direct
            print(f"overhead ratio mlflow/mlproj: {theirs / ours:.1f}x less overhead")
            print(f"memory ratio mlflow/mlproj: {rows['mlflow'][1] / rows['mlproj'][1]:.1f}x")


if __name__ == "__main__":
    main()
