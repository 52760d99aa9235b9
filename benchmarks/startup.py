"""Start-up time of `mlproj --help` and `mlproj validate PROJECT`, next to `python -c pass`.

Each command runs as a fresh subprocess (the way a user starts it), in interleaved rounds after
one warm-up run (page cache, .pyc files). Prints the median wall time, the time above the bare
interpreter and the ratio to it, and the minimum, which load on a shared machine disturbs
least. Also `mlflow --help`, when mlflow is installed, for scale. mlproj runs as a user
installed it (benchmarks/installed.py), not through an editable install's finder.
Usage: python benchmarks/startup.py [--repeat N] [PROJECT]   (target: < 150 ms each)
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from installed import install

DEFAULT_PROJECT = Path(__file__).resolve().parent.parent / "tests/resources/projects/multistep"


def run_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)  # a failing command is not timed
    return time.perf_counter() - start


def measure(commands: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Interleaved rounds, so that a burst of load on a shared machine hits every command."""
    for argv in commands.values():
        run_once(argv)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, argv in commands.items():
            samples[name].append(run_once(argv))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=DEFAULT_PROJECT)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlproj-startup-") as tmp:
        python, mlproj = install(Path(tmp))  # as a user has it: see benchmarks/installed.py
        commands = {
            "python -c pass": [python, "-c", "pass"],
            "mlproj --help": [python, mlproj, "--help"],
            "mlproj validate": [python, mlproj, "validate", str(args.project)],
            "mlproj describe": [python, mlproj, "describe", str(args.project)],
        }
        if importlib.util.find_spec("mlflow") is not None:
            commands["mlflow --help"] = [sys.executable, "-m", "mlflow", "--help"]
        samples = measure(commands, args.repeat)
    base = statistics.median(samples["python -c pass"])
    base_min = min(samples["python -c pass"])
    print(f"{args.repeat} interleaved runs each; project: {args.project}")
    print(
        f"{'command':<18}{'median':>10}{'above python':>15}{'ratio':>8}{'min':>10}"
        f"{'above python':>15}"
    )
    for name, runs in samples.items():
        median, fastest = statistics.median(runs), min(runs)
        print(
            f"{name:<18}{median * 1000:>8.1f}ms{(median - base) * 1000:>13.1f}ms"
            f"{median / base:>7.2f}x{fastest * 1000:>8.1f}ms"
            f"{(fastest - base_min) * 1000:>13.1f}ms"
        )


if __name__ == "__main__":
    main()
