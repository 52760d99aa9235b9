"""Cold and warm creation of a python_env.yaml environment: mlproj vs uv by hand vs mlflow run.

    python benchmarks/env_create.py [--repeat 7] [--packages "six requests"] [--no-mlflow]
                                    [--torch-check]

Every contender installs the same packages with the same index settings (this machine's pip
configuration, translated for uv the way mlproj does it) from a warm uv cache, so what differs
is what each tool adds around uv:
- by hand, as typed: `uv venv DIR --python X`, then `uv pip install --python DIR/bin/python
             -r req.txt`; once more with `--compile-bytecode`, which mlproj passes (so that runs
             do not recompile every module at each start);
- by hand, the same work as mlproj: `uv venv`, `uv pip compile --generate-hashes req.txt
             -o lock.txt` (a lock with every file's sha256: mlproj records it, and `mlproj
             reproduce` installs it), `uv pip install --compile-bytecode --no-deps -r lock.txt`
             (the env is exactly the lock; uv checks the hashes a requirements file gives;
             --require-hashes would also refuse the unpinned constraint files a pip
             configuration may name), one after the other as a person types them. mlproj
             runs the same three commands, the first two at the same time: that overlap is
             its own, and counts for it. The lock costs a second pass over the index, which
             "as typed" does not make: hence both ratios;
- mlproj:    virtualenv.resolve() + build_or_reuse() in this process (cold: an empty env cache,
             the interpreter lookup remembered; "first ever": not even that), with its
             seconds per uv command read from the env's build log and what is left: mlproj's
             own work (reading the env files, the key, the cache lock, the marker);
- mlflow:    the env step of `mlflow run --env-manager uv` (its _create_virtualenv, timed inside
             a process that has already imported mlflow; cold: an empty env root).
Targets: mlproj warm adds < 50 ms; mlproj cold within 1.3x of the hand-run uv commands that
do the same work. Cold rounds alternate the three hand runs and mlproj, so that load on a
shared machine hits all alike; the figures are medians.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from mlproj.envs import cache
from mlproj.envs.virtualenv import manager as virtualenv
from mlproj.envs.virtualenv import pipconf
from mlproj.output import Progress
from mlproj.spec.model import EnvDecl, Project

EXIT_LINE = re.compile(r"^\[ *([\d.]+)s\] exit \d+ after ([\d.]+)s: (.+)$")


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


def make_project(root: Path, packages: list[str]) -> Project:
    proj = root / "proj"
    proj.mkdir()
    version = platform.python_version()
    deps = "".join(f"  - {p}\n" for p in packages)
    (proj / "python_env.yaml").write_text(f'python: "{version}"\ndependencies:\n{deps}')
    (proj / "requirements.txt").write_text("".join(f"{p}\n" for p in packages))
    (proj / "MLproject").write_text(
        "name: bench\npython_env: python_env.yaml\n"
        "entry_points:\n  main:\n    command: \"python -c 'pass'\"\n"
    )
    return Project(proj, "bench", EnvDecl("python", proj / "python_env.yaml"))


def uv_env() -> dict[str, str]:
    settings = pipconf.uv_settings(pipconf.read_pip_config())
    env = dict(os.environ, **settings.env, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    return env


HAND_MODES = ("hand", "hand_bytecode", "hand_locked")


@functools.cache
def hand_settings() -> tuple[str, dict[str, str], tuple[str, ...]]:
    """uv, its environment and its index arguments: looked up once, outside the timings."""
    return virtualenv.uv_binary(), uv_env(), pipconf.uv_settings(pipconf.read_pip_config()).args


def by_hand(project: Project, dest: Path, python: str, mode: str) -> None:
    """The uv commands a person would type (`mode`: one of HAND_MODES; see the docstring)."""
    uv, env, args = hand_settings()
    requirements = str(project.directory / "requirements.txt")
    venv_python = str(dest / "bin" / "python")
    commands = [[uv, "venv", "-q", str(dest), "--python", python]]
    install = [uv, "pip", "install", "-q", "--python", venv_python, *args]
    if mode == "hand":
        commands.append([*install, "-r", requirements])
    elif mode == "hand_bytecode":
        commands.append([*install, "--compile-bytecode", "-r", requirements])
    else:
        lock = str(dest) + ".lock.txt"
        compile_lock = [uv, "pip", "compile", "-q", "--generate-hashes", "--python", python]
        commands.append([*compile_lock, *args, "-o", lock, requirements])
        locked = ["--compile-bytecode", "--no-deps", "-r", lock]  # uv checks the hashes
        commands.append([*install, *locked])
    for argv in commands:
        subprocess.run(argv, env=env, check=True, cwd=project.directory)


def mlproj_prepare(project: Project) -> Path:
    plan = virtualenv.resolve(project)
    return virtualenv.build_or_reuse(plan, Progress("virtualenv", stream=io.StringIO()))


def build_steps(env_dir: Path) -> dict[str, float]:
    """Seconds per tool command of the last build of `env_dir`, from its build log (lines
    `[  0.63s] exit 0 after 0.60s: uv pip install`, envs/buildlog.py), and under "tools" the
    wall time during which at least one ran (commands that overlap count once)."""
    steps: dict[str, float] = {}
    spans = []
    for line in cache.log_path(env_dir.name).read_text().splitlines():
        found = EXIT_LINE.match(line)
        if found is not None:
            ended, seconds, command = float(found[1]), float(found[2]), found[3]
            steps[command] = steps.get(command, 0.0) + seconds
            spans.append((ended - seconds, ended))
    covered, reached = 0.0, float("-inf")
    for start, end in sorted(spans):
        covered += max(0.0, end - max(start, reached))
        reached = max(reached, end)
    steps["tools"] = covered
    return steps


def with_home(home: Path, action: Callable[[], object]) -> float:
    os.environ["MLPROJ_HOME"] = str(home)
    return timed(action)


def bench_cold(root: Path, project: Project, repeat: int) -> dict[str, list[float]]:
    """Interleaved rounds: the three hand runs, then mlproj (python remembered)."""
    python = sys.executable
    first_home = root / "home-first"
    first = [with_home(first_home, lambda: mlproj_prepare(project))]
    memo = first_home / "pythons.json"
    times: dict[str, list[float]] = {mode: [] for mode in HAND_MODES}
    times.update(cold=[], first=first)
    for i in range(repeat):
        for mode in HAND_MODES:
            dest = root / f"{mode}-{i}"
            times[mode].append(timed(partial(by_hand, project, dest, python, mode)))
        home = root / f"home-{i}"
        home.mkdir()
        if memo.exists():
            shutil.copy(memo, home / "pythons.json")
        times["cold"].append(with_home(home, partial(mlproj_prepare, project)))
        for step, seconds in build_steps(mlproj_prepare(project)).items():  # warm: no rebuild
            times.setdefault(step, []).append(seconds)
    times["warm"] = [
        with_home(root / "home-0", lambda: mlproj_prepare(project)) for _ in range(repeat)
    ]
    return times


# Times MLflow's own env step of `mlflow run --env-manager uv` (backend/local.py: read
# python_env.yaml, name the env, _create_virtualenv), with mlflow already imported, so that
# its interpreter start-up and import time (several seconds) do not count against it.
MLFLOW_STEP = """
import json, sys, time
from pathlib import Path
from mlflow.utils.environment import _PythonEnv
from mlflow.utils.virtualenv import _create_virtualenv, _get_virtualenv_name
project, root, repeat = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
def step(env_root):
    started = time.perf_counter()
    python_env = _PythonEnv.from_yaml(project / "python_env.yaml")
    env_dir = env_root / _get_virtualenv_name(python_env, project)
    _create_virtualenv(local_model_path=project, python_env=python_env, env_dir=env_dir,
                       env_manager="uv", capture_output=True)
    return time.perf_counter() - started
cold = [step(root / f"mlflow-envs-{i}") for i in range(repeat)]
warm = [step(root / "mlflow-envs-0") for _ in range(repeat)]
print(json.dumps({"cold": cold, "warm": warm}))
"""


def bench_mlflow(root: Path, project: Project, repeat: int) -> dict[str, list[float]] | None:
    try:
        import mlflow  # noqa: F401 - only to know whether it is there
    except ImportError:
        print("mlflow: not installed, skipped")
        return None
    done = subprocess.run(
        [sys.executable, "-c", MLFLOW_STEP, str(project.directory), str(root), str(repeat)],
        env=uv_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"mlflow: its env step failed: {done.stderr.strip().splitlines()[-1:]}")
        return None
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def torch_check(root: Path) -> None:
    """Which file would uv pick for torch==2.13.0 under this machine's pip configuration?"""
    uv, env = virtualenv.uv_binary(), uv_env()
    args = pipconf.uv_settings(pipconf.read_pip_config()).args
    venv = root / "torch-venv"
    subprocess.run([uv, "venv", "-q", str(venv)], env=env, check=True)
    done = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--dry-run",
            "-v",
            "--python",
            str(venv / "bin" / "python"),
            *args,
            "torch==2.13.0",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    picked = [line for line in done.stderr.splitlines() if "Selecting: torch==" in line]
    print(
        "torch==2.13.0 dry run:",
        picked[0].split("DEBUG ")[-1]
        if picked
        else f"no choice found (exit {done.returncode}): {done.stderr[-500:]}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--packages", default="six requests")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--torch-check", action="store_true")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlproj-bench-") as tmp:
        root = Path(tmp)
        project = make_project(root, opts.packages.split())
        python = sys.executable
        print(
            f"python {platform.python_version()}, uv {virtualenv.uv_version()}, "
            f"packages: {opts.packages}; index: "
            f"{pipconf.uv_settings(pipconf.read_pip_config()).describe()}"
        )
        for mode in HAND_MODES:  # fill the uv cache for everyone
            by_hand(project, root / f"warmup-{mode}", python, mode)
        ours = bench_cold(root, project, opts.repeat)
        theirs = None if opts.no_mlflow else bench_mlflow(root, project, opts.repeat)

        cold = statistics.median(ours["cold"])
        print(f"uv by hand, as typed:                {median_ms(ours['hand'])}")
        print(f"uv by hand, as typed + bytecode:     {median_ms(ours['hand_bytecode'])}")
        print(f"uv by hand, the same work as mlproj: {median_ms(ours['hand_locked'])}")
        print("  (uv venv; uv pip compile --generate-hashes; uv pip install --compile-bytecode")
        print("   --no-deps of that lock: what mlproj does, to record and install exact pins)")
        ratios = {mode: cold / statistics.median(ours[mode]) for mode in HAND_MODES}
        print(
            f"mlproj, cold (python remembered):    {median_ms(ours['cold'])}   ratio to hand "
            f"doing the same work {ratios['hand_locked']:.2f}x (target <= 1.3x)"
        )
        print(
            f"  to hand as typed + bytecode {ratios['hand_bytecode']:.2f}x, "
            f"to hand as typed {ratios['hand']:.2f}x"
        )
        steps = [k for k in ours if k.startswith("uv ")]
        for step in steps:
            print(f"  of which {step + ':':26} {median_ms(ours[step])}")
        rest = [c - t for c, t in zip(ours["cold"], ours["tools"], strict=True)]
        print(
            f"  of which mlproj itself:            {median_ms(rest)}   (the total less the"
            " time some uv command ran)"
        )
        print(f"mlproj, first ever (python found):  {median_ms(ours['first'])}")
        print(f"mlproj, warm (cached env):           {median_ms(ours['warm'])}   (target < 50 ms)")
        if theirs is not None:
            ratio = statistics.median(theirs["cold"]) / statistics.median(ours["cold"])
            print(
                f"mlflow (--env-manager uv), cold:     {median_ms(theirs['cold'])}   "
                f"ratio to mlproj cold {ratio:.2f}x"
            )
            print(
                f"mlflow (--env-manager uv), warm:     {median_ms(theirs['warm'])}   "
                "(an existence check only: no lock, no health check)"
            )
        pyenv = shutil.which("pyenv")
        print(
            "mlflow --env-manager virtualenv: "
            + (
                f"needs pyenv ({pyenv}); not benchmarked, it builds Python itself"
                if pyenv
                else "needs pyenv, which is absent here: not benchmarked"
            )
        )
        if opts.torch_check:
            torch_check(root)


if __name__ == "__main__":
    main()
