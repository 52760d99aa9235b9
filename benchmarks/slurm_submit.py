"""Time to the first output line of a Slurm job: `mlproj run -b slurm` vs `sbatch` by hand.

    python benchmarks/slurm_submit.py [--repeat 5]

Needs a Slurm cluster (SLURM_CONF; .ci/setup.d/50-slurm.sh starts a one-node one). The command
is `echo first-line; sleep 1` in both cases:
- mlproj: `mlproj run <project> -b slurm --env-manager local` with a file store in a temp dir,
  timed from the start of the process to the line on its stdout (streamed from the job's output
  file); this includes validating the project, creating the run, writing slurm/job.sh,
  sbatch, starting `mlproj _exec-run` on the node and opening the run there;
- by hand: `sbatch --wait --output=FILE --wrap CMD`, timed from its start to the line appearing
  in FILE (polled every 10 ms), which is what a user tailing the file sees.
Samples alternate so load from elsewhere hits both alike; medians and their ratio are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMAND = "echo first-line; sleep 1"
_LIMIT = 120.0


def _mlproj_sample(root: Path) -> float:
    project = root / "project"
    project.mkdir(exist_ok=True)
    (project / "MLproject").write_text(
        f"name: bench\nentry_points:\n  main:\n    command: {COMMAND}\n"
    )
    argv = [sys.executable, "-m", "mlproj", "run", str(project), "-b", "slurm"]
    argv += ["--env-manager", "local", "--tracking-uri", str(root / "mlruns")]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            if line.strip() == "first-line":
                elapsed = time.perf_counter() - started
                break
        else:
            raise SystemExit("mlproj run -b slurm ended without printing the first line")
        proc.wait(timeout=_LIMIT)
    finally:
        if proc.poll() is None:
            proc.kill()
    return elapsed


def _sbatch_sample(root: Path) -> float:
    output = root / f"by-hand-{time.monotonic_ns()}.out"
    argv = ["sbatch", "--wait", f"--output={output}", "--wrap", COMMAND]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < _LIMIT:
            if output.exists() and output.read_text().startswith("first-line"):
                elapsed = time.perf_counter() - started
                break
            time.sleep(0.01)
        else:
            raise SystemExit("sbatch's job never printed the first line")
        proc.wait(timeout=_LIMIT)
    finally:
        if proc.poll() is None:
            proc.kill()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if "SLURM_CONF" not in os.environ and not Path("/etc/slurm/slurm.conf").exists():
        raise SystemExit("no Slurm configured (set SLURM_CONF)")
    mlproj: list[float] = []
    by_hand: list[float] = []
    with tempfile.TemporaryDirectory(prefix="slurm-bench-", dir=os.environ.get("HOME")) as tmp:
        root = Path(tmp)
        _mlproj_sample(root)  # warm the page cache for the imports
        for _ in range(args.repeat):
            mlproj.append(_mlproj_sample(root))
            by_hand.append(_sbatch_sample(root))
    m, s = statistics.median(mlproj), statistics.median(by_hand)
    print(f"samples: {args.repeat} each")
    print(f"mlproj run -b slurm -> first line: median {m:.2f}s (min {min(mlproj):.2f}s)")
    print(f"sbatch --wait by hand -> first line: median {s:.2f}s (min {min(by_hand):.2f}s)")
    print(f"ratio mlproj / by hand: {m / s:.2f}x (+{m - s:.2f}s)")


if __name__ == "__main__":
    main()
