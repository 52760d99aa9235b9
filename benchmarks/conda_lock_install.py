"""A conda project installed from its conda-lock.yml vs solved from scratch (py-rattler, offline).

    python benchmarks/conda_lock_install.py [--repeat 5] [--packages 60] [--noise 300000]

A local file:// channel is made: `--packages` small noarch packages in a dependency chain
(4 versions each, 20 files each), plus `--noise` records of unrelated packages written into its
repodata.json only (never installed; 300000 records, ~100 MB, is the size of a big conda-forge
subdir, so the solver has a realistic index to read). conda.yml asks for the 5 top packages;
the environment holds every package of the chain.

Phases, in this process (median of --repeat, a fresh repodata cache each time):
- solve:      rattler reads the channel's repodata and solves conda.yml;
- lock read:  the freshness check of conda-lock.yml plus reading its records (what replaces it).
End to end, each sample in a fresh process with an empty MLPROJ_HOME (cold env cache, cold
package cache), timing `CondaManager.prepare()` with its imports:
- solve:  no lockfile: read repodata, solve, install;
- lock:   a fresh conda-lock.yml: read the lock, install, from a copy of the channel whose
          repodata is deleted once locked, so this path cannot solve.
The two kinds of samples alternate, so that load from elsewhere hits both alike.
A local channel has no download: against a remote channel the solve path also fetches the
repodata (seconds for conda-forge), which the lock path never does.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.envs.conda.channel

from tests.envs.conda import channel as chan

_PREPARE = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from mlproj.envs.base import EnvOptions
from mlproj.envs.conda.manager import MANAGER
from mlproj.spec.model import EnvDecl, Project
root = Path(sys.argv[1])
prepared = MANAGER.prepare(Project(root, "bench", EnvDecl("conda", root / "conda.yml")),
                           EnvOptions(manager="conda"))
print(json.dumps({"seconds": time.perf_counter() - started,
                  "lockfile": prepared.facts.details["lockfile"],
                  "packages": sum(1 for line in open(prepared.artifacts[0][0])
                                  if line.startswith("file:"))}))
"""


def chain(count: int) -> list[chan.Pkg]:
    pkgs = []
    for i in range(count):
        deps = tuple(f"bench-{j:03d} >=1" for j in range(i + 1, min(i + 4, count)))
        for version in ("1.0", "1.1", "2.0", "2.1"):
            files = {
                f"share/bench-{i:03d}/f{k}.txt": f"{i} {version} {k}\n" * 200 for k in range(20)
            }
            pkgs.append(chan.Pkg(f"bench-{i:03d}", version, depends=deps, files=files))
    return pkgs


def add_noise(channel: Path, count: int) -> None:
    repodata = channel / "noarch" / "repodata.json"
    data = json.loads(repodata.read_text())
    for k in range(count):
        name = f"noise-{k // 4:05d}"
        version = f"{k % 4}.0"
        data["packages"][f"{name}-{version}-0.tar.bz2"] = {
            "name": name,
            "version": version,
            "build": "0",
            "build_number": 0,
            "depends": [f"noise-{(k // 4 + 1) % (count // 4 or 1):05d}"],
            "subdir": "noarch",
            "noarch": "generic",
            "md5": "0" * 32,
            "sha256": "0" * 64,
            "size": 1,
            "timestamp": 1700000000000,
            "license": "MIT",
        }
    repodata.write_text(json.dumps(data))


def sample(project: Path, home: Path) -> dict[str, object]:
    env = dict(os.environ, MLPROJ_HOME=str(home))
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, str(project)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"prepare failed:\n{done.stderr}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def phases(channel: Path, locked_dir: Path, root: Path, repeat: int) -> tuple[float, float]:
    from mlproj.envs.buildlog import BuildLog
    from mlproj.envs.conda import lockfile as lock
    from mlproj.envs.conda import solve as conda_solve
    from mlproj.output import Progress

    conda_file = locked_dir / "conda.yml"
    platform = conda_solve.current_platform()
    specs = [f"bench-{i:03d}" for i in range(5)]
    solve_s, lock_s = [], []
    for i in range(repeat):
        os.environ["MLPROJ_HOME"] = str(root / f"phase{i}")
        quiet = Progress("conda", stream=io.StringIO(), interactive=False)
        with BuildLog(root / f"phase{i}.log", "conda", progress=quiet) as reporter:
            started = time.perf_counter()
            conda_solve.solve(
                [channel.as_uri()],
                specs,
                platform,
                virtual="detect",
                reporter=reporter,
                what="bench",
            )
            solve_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert lock.lock_status(conda_file, platform).used
        lock.locked_conda_records(lock.lockfile_for(conda_file), platform)
        lock_s.append(time.perf_counter() - started)
    return statistics.median(solve_s), statistics.median(lock_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--packages", type=int, default=60)
    parser.add_argument("--noise", type=int, default=300000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlproj-bench-conda-") as scratch:
        root = Path(scratch)
        started = time.perf_counter()
        channel = chan.build_channel(root / "channel", chain(args.packages))
        add_noise(channel, args.noise)
        print(
            f"channel: {args.packages} packages x 4 versions + {args.noise} noise records "
            f"({time.perf_counter() - started:.1f} s to build)"
        )
        # the lock path gets its own copy of the channel, whose index goes once it is locked
        frozen_channel = root / "channel-for-lock"
        shutil.copytree(channel, frozen_channel)
        solved_dir, locked_dir = root / "solved", root / "locked"
        for proj, source in ((solved_dir, channel), (locked_dir, frozen_channel)):
            proj.mkdir()
            top = "".join(f"  - bench-{i:03d}\n" for i in range(5))
            (proj / "conda.yml").write_text(
                f"channels:\n  - {source.as_uri()}\ndependencies:\n{top}"
            )

        from mlproj.envs.conda.lockfile import lock_project

        os.environ["MLPROJ_HOME"] = str(root / "lock-home")
        started = time.perf_counter()
        lock_project(locked_dir)
        lock_seconds = time.perf_counter() - started

        solve_phase, lock_phase = phases(channel, locked_dir, root, args.repeat)
        chan.remove_repodata(frozen_channel)  # the lock path cannot solve
        solve, locked = [], []
        for i in range(args.repeat):  # interleaved: a busy machine slows both alike
            solve.append(sample(solved_dir, root / f"s{i}"))
            locked.append(sample(locked_dir, root / f"l{i}"))
            for home in (root / f"s{i}", root / f"l{i}"):
                shutil.rmtree(home, ignore_errors=True)

    assert {s["lockfile"] for s in solve} == {"absent"}
    assert {s["lockfile"] for s in locked} == {"used"}
    solve_s = statistics.median(float(str(s["seconds"])) for s in solve)
    lock_s = statistics.median(float(str(s["seconds"])) for s in locked)
    print(f"packages installed: {solve[0]['packages']} (solve), {locked[0]['packages']} (lock)")
    print(f"mlproj lock (solve + write conda-lock.yml): {lock_seconds * 1000:8.1f} ms")
    print(f"phase: solve (repodata + solver):           {solve_phase * 1000:8.1f} ms")
    print(f"phase: lock check + read records:           {lock_phase * 1000:8.1f} ms")
    print(f"solve + install, cold (median of {args.repeat}): {solve_s * 1000:8.1f} ms")
    print(f"install from lock, cold, no solve:          {lock_s * 1000:8.1f} ms")
    print(f"ratio solve / lock: {solve_s / lock_s:.2f}x")


if __name__ == "__main__":
    main()
