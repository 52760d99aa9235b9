"""`mlproj sweep` end to end: real child processes, a real file store, read back by MLflow's
own client (as the MLflow UI would read it)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import alive, run_cli
from tests.run.conftest import mlflow_client, write_project

# Logs a score that is best (highest) for epochs=2, size=5, through MLflow's own API.
SCORING = """
    import sys, mlflow
    epochs, size = int(sys.argv[1]), int(sys.argv[2])
    mlflow.log_metric("score", epochs * 10 + size)
"""
# No mlflow import: fast. Fails for size=4; records its pid (and a grandchild's) when asked.
PLAIN = """
    import os, subprocess, sys, time
    epochs, size, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    if wait:
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        with open(f"pids-{epochs}-{size}.txt", "w") as f:
            f.write(f"{os.getpid()} {child.pid}\\n")
        time.sleep(wait)
    sys.exit(1 if size == 4 else 0)
"""
MLPROJECT = """
    entry_points:
      main:
        parameters:
          epochs: {type: int, default: 1}
          size: {type: int, default: 3}
        command: "python scoring.py {epochs} {size}"
      plain:
        parameters:
          epochs: {type: int, default: 1}
          size: {type: int, default: 3}
          wait: {type: float, default: 0}
        command: "python plain.py {epochs} {size} {wait}"
      echo:
        parameters:
          epochs: {type: int, default: 1}
          size: {type: int, default: 3}
          wait: {type: float, default: 0}
        command: "echo {epochs} {size} {wait}"
"""


def _project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", MLPROJECT, {"scoring.py": SCORING, "plain.py": PLAIN})


def _sweep(
    proj: Path, store: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        ["sweep", str(proj), "--env-manager", "local", "--tracking-uri", str(store), *args],
        env=env,
    )


def _runs(store: Path) -> tuple[Any, list[Any]]:
    """(the parent run, its children in sweep order), as MLflow's client reads them."""
    runs = mlflow_client(store).search_runs(experiment_ids=["0"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1, [r.data.tags for r in parents]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    children.sort(key=lambda r: int(r.data.tags["mlproj.sweep.index"]))
    return parents[0], children


@pytest.mark.slow  # four child runs, each importing mlflow (12 s of CPU)
def test_grid_with_two_jobs_nests_four_finished_runs_and_names_the_best(
    tmp_path: Path, store: Path
) -> None:
    proj = _project(tmp_path)
    result = _sweep(
        proj, store, "-P", "epochs=1,2", "-P", "size=3,5", "--jobs", "2",
        "--metric", "score", "--maximize",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    parent, children = _runs(store)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mlproj.sweep"] == "grid"
    assert parent.data.params == {"epochs": "1,2", "size": "3,5"}
    assert [c.info.status for c in children] == ["FINISHED"] * 4
    assert all(c.data.tags["mlflow.parentRunId"] == parent.info.run_id for c in children)
    combos = [(c.data.params["epochs"], c.data.params["size"]) for c in children]
    assert combos == [("1", "3"), ("1", "5"), ("2", "3"), ("2", "5")]
    # each child has its own logs
    client = mlflow_client(store)
    for child in children:
        logs = [a.path for a in client.list_artifacts(child.info.run_id, "logs")]
        assert logs == ["logs/stderr.txt", "logs/stdout.txt"]
    # best-of: epochs=2 size=5 scores 25, the highest
    best = next(c for c in children if c.data.params == {"epochs": "2", "size": "5"})
    assert f"best: run {best.info.run_id} (score = 25)" in result.stdout
    table = result.stdout.splitlines()
    assert table[1].split()[:2] == ["4", best.info.run_id]  # first row after the header
    assert parent.data.tags["mlproj.sweep.best_run_id"] == best.info.run_id
    assert parent.data.tags["mlproj.sweep.best.epochs"] == "2"
    assert parent.data.tags["mlproj.sweep.best.size"] == "5"
    assert parent.data.metrics["score"] == 25.0
    local = client.download_artifacts(parent.info.run_id, "sweep/summary.json", str(tmp_path))
    summary = json.loads(Path(local).read_text())
    assert summary["best_run_id"] == best.info.run_id
    assert [r["metric"] for r in summary["runs"]] == [25.0, 23.0, 15.0, 13.0]


def test_a_failing_child_leaves_the_others_finished_and_the_parent_failed(
    tmp_path: Path, store: Path
) -> None:
    proj = _project(tmp_path)
    result = _sweep(proj, store, "-e", "plain", "-P", "epochs=1", "-P", "size=3,4,5", "-j", "2")
    assert result.returncode == 1, result.stderr
    parent, children = _runs(store)
    assert parent.info.status == "FAILED"
    assert [c.data.params["size"] for c in children] == ["3", "4", "5"]
    assert [c.info.status for c in children] == ["FINISHED", "FAILED", "FINISHED"]
    assert "exit code 1" in result.stderr


def test_fail_fast_stops_the_sweep_at_the_first_failure(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = _sweep(proj, store, "-e", "plain", "-P", "size=4,3,5", "--fail-fast")
    assert result.returncode == 1, result.stderr
    parent, children = _runs(store)
    assert parent.info.status == "FAILED"
    assert [c.info.status for c in children] == ["FAILED"]  # the others never started
    assert "NOT STARTED" in result.stdout


def test_seeded_random_sweep_draws_the_same_runs_twice(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    drawn = []
    for attempt in ("a", "b"):
        store = tmp_path / f"store-{attempt}"
        # `echo`, not `plain`: a wait > 0 makes plain.py leave a process behind to be stopped
        # (seconds per child), and only the draws matter here
        result = _sweep(
            proj, store, "-e", "echo", "-P", "epochs=1..9", "-P", "size=3,5",
            "-P", "wait=log:0.001..0.01", "--random", "3", "--seed", "11", "-j", "2",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        parent, children = _runs(store)
        assert parent.data.tags["mlproj.sweep"] == "random"
        assert parent.data.tags["mlproj.sweep.seed"] == "11"
        drawn.append([dict(c.data.params) for c in children])
    assert drawn[0] == drawn[1]
    assert len(drawn[0]) == 3
    for params in drawn[0]:
        assert 1 <= int(params["epochs"]) <= 9 and params["size"] in ("3", "5")
        assert 0.001 <= float(params["wait"]) <= 0.01
    other = _sweep(
        proj, tmp_path / "x", "-e", "echo", "-P", "epochs=1..9", "-P", "size=3,5",
        "-P", "wait=log:0.001..0.01", "--random", "3", "--seed", "12", "--dry-run", "--json",
    )  # fmt: skip
    assert [c["params"] for c in json.loads(other.stdout)["combinations"]] != drawn[0]


def test_ctrl_c_mid_sweep_kills_every_child_and_the_parent(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mlproj", "sweep", str(proj), "-e", "plain",
            "--env-manager", "local", "--tracking-uri", str(store),
            "-P", "epochs=1,2", "-P", "size=3,5", "-P", "wait=300", "--jobs", "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while len(pid_files := list(proj.glob("pids-*.txt"))) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the children never started"
        time.sleep(0.1)
    time.sleep(0.3)  # let both pid files be written in full
    pids = [int(p) for f in pid_files for p in f.read_text().split()]
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    parent, children = _runs(store)
    assert parent.info.status == "KILLED"
    assert [c.info.status for c in children] == ["KILLED", "KILLED"]
    assert not [pid for pid in pids if alive(pid)]
    assert out.count("NOT STARTED") == 2


def test_values_are_checked_before_anything_starts(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    bad = _sweep(proj, store, "-P", "epochs=1,x", "-P", "size=3,5")
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith(
        "mlproj: error: invalid value 'x' for int parameter 'epochs': not a whole number"
    )
    assert "--no-type-check" in bad.stderr  # the way to pass it anyway, as `run` says
    single = run_cli(["run", str(proj), "--env-manager", "local", "-P", "epochs=x"])
    assert single.stderr.strip() == bad.stderr.strip()  # the same words as `run`
    ranged = _sweep(proj, store, "-P", "epochs=1..3")
    assert ranged.returncode == 1
    assert "a range is sampled, not enumerated (add --random N" in ranged.stderr
    assert not store.exists()  # nothing recorded


def test_dry_run_lists_combinations_and_commands(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = _sweep(proj, store, "-P", "epochs=1,2", "-P", "size=3", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["mode"] == "grid"
    assert [c["command"] for c in plan["combinations"]] == [
        "python scoring.py 1 3",
        "python scoring.py 2 3",
    ]
    assert not store.exists()


def test_follow_streams_each_childs_output_prefixed(tmp_path: Path, store: Path) -> None:
    proj = write_project(
        tmp_path / "echo",
        """
        entry_points:
          main:
            parameters: {n: int}
            command: "echo out-{n}; echo err-{n} >&2"
        """,
    )
    result = run_cli(
        ["sweep", str(proj), "--env-manager", "local", "--tracking-uri", str(store),
         "-P", "n=1,2", "--follow"]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "[#1] out-1" in result.stdout and "[#2] out-2" in result.stdout
    assert "[#1] err-1" in result.stderr and "[#2] err-2" in result.stderr


def test_sweep_warns_about_a_mistyped_name(tmp_path: Path, store: Path) -> None:
    proj = _project(tmp_path)
    result = _sweep(proj, store, "-e", "plain", "-P", "epoch=1", "--dry-run")
    assert "mlproj: warning: -P epoch: not a parameter of plain; did you mean epochs?" in (
        result.stderr
    )
    strict = _sweep(proj, store, "-e", "plain", "-P", "epoch=1", env={"MLPROJ_STRICT_PARAMS": "1"})
    assert strict.returncode == 1
    assert strict.stderr.startswith("mlproj: error: -P epoch: not a parameter of plain")
    assert not store.exists()
