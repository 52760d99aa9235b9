"""Every command the README shows, run as written (placeholders replaced where noted)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import REPO_ROOT
from tests.helpers import run_cli, wait_until

README = REPO_ROOT / "README.md"

QUICK_START = "mlproj run examples/cnn_project --env-manager virtualenv -P epochs=2"
FAST = [
    "mlproj run examples/cnn_project --dry-run -P lr=0.01 --env-manager virtualenv",
    "mlproj env list",
    "mlproj env prune --older-than 30d",
    "mlproj validate examples/cnn_project",
    "mlproj describe examples/cnn_project --json",
]
SWEEP = (
    "mlproj sweep examples/cnn_project --env-manager virtualenv -P epochs=1,2 -P conv_size=3,5 "
    "--jobs 2 --metric val_accuracy --maximize"
)
AFTER_RUNS = [
    "mlproj runs list --filter \"params.lr > 0.0001 and status = 'FINISHED'\" "
    "--sort -metrics.val_accuracy",
    "mlproj runs compare $(mlproj runs list --quiet --limit 2)",
]
MLFLOW_UI = "MLFLOW_ALLOW_FILE_STORE=true mlflow ui --backend-store-uri ./mlruns"
# Commands tested elsewhere or not runnable here, and why.
ELSEWHERE = {
    "bash .ci/run": "is CI itself",
    'python -m pytest -n 2 -m "not slow and not docker and not postgres and not slurm and '
    'not examples"': ("is the fast lane of the test suite this test belongs to"),
    "mlproj run examples/cnn_project -P epochs=2": "needs conda-forge; its plan is checked below",
    "mlproj ui": "tests/tracking/test_ui.py opens it in headless Chromium",
    "mlproj runs migrate --to sqlite:///mlflow.db": "tests/tracking/test_ui.py runs it",
    "mlproj run https://host/team/repo.git#models/cnn -v v1.2 -e main -P epochs=2": (
        "tests/run/test_run_git.py runs this shape over a git daemon"
    ),
    "mlproj run examples/cnn_project -b slurm -c slurm.yaml --env-manager virtualenv -P epochs=2": (
        "needs a gpu partition; tests/backends/slurm/test_slurm_example.py runs the example "
        "with -b slurm on the CI's one-node Slurm"
    ),
    "mlproj sweep examples/cnn_project -b slurm -c slurm.yaml --env-manager virtualenv "
    "-P epochs=1,2 -P conv_size=3,5 --jobs 2 --metric val_accuracy --maximize": (
        "needs a gpu partition; tests/backends/slurm/test_slurm_sweep.py sweeps a grid as one "
        "array job on the CI's one-node Slurm"
    ),
    "mlproj run . -b kubernetes -c kubernetes_config.json --build-image": (
        "no API server can run here; tests/backends/kubernetes/test_kubernetes_submit.py runs "
        "it up to creating the Job"
    ),
    "mlproj reproduce 3f2a9c1e --tracking-uri https://host/mlflow": (
        "tests/reproduce/test_reproduce.py reproduces runs by id prefix and runs:/ID from another "
        "store and cwd; tests/reproduce/test_runref.py parses UI URLs"
    ),
    "mlproj runs diff ./mlruns#3f2a9c1e https://host/#/experiments/1/runs/7b41d0aa": (
        "tests/reproduce/test_reproduce.py diffs STORE#RUN_ID pairs; test_runref.py UI URLs"
    ),
    "mlproj pack . -v v1.2 -o cnn-v1.2.zip": "tests/reproduce/test_pack.py packs a repo twice",
    "mlproj run cnn-v1.2.zip": "tests/reproduce/test_pack.py runs a bundle on a fresh cache",
    "mlproj validate cnn-v1.2.zip": "tests/reproduce/test_pack.py validates a (tampered) bundle",
}


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_every_readme_command_is_covered() -> None:
    known = {
        f"pip install -e . && {QUICK_START}",
        *FAST,
        SWEEP,
        *AFTER_RUNS,
        MLFLOW_UI,
        *ELSEWHERE,
    }
    assert set(readme_commands()) == known


def _mlproj(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    assert argv[0] == "mlproj"
    return run_cli(argv[1:], cwd=cwd, timeout=1200)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the repository's examples, as a fresh clone would have them."""
    shutil.copytree(
        REPO_ROOT / "examples",
        tmp_path / "examples",
        ignore=shutil.ignore_patterns("mlruns", "__pycache__"),
    )
    return tmp_path


@pytest.mark.examples  # runs README commands in a copy of the repository
def test_fast_readme_commands(checkout: Path) -> None:
    for command in FAST:
        result = _mlproj(command, checkout)
        assert result.returncode == 0, (command, result.stderr)
    described = json.loads(_mlproj(FAST[-1], checkout).stdout)
    assert described["env"]["type"] == "conda"
    plan = json.loads(_mlproj(FAST[0] + " --json", checkout).stdout)
    assert "--lr 0.01" in plan["command"]


def test_the_conda_command_plans_a_conda_env_from_conda_forge(checkout: Path) -> None:
    result = run_cli(
        ["run", "examples/cnn_project", "-P", "epochs=2", "--dry-run", "--json"], cwd=checkout
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["env"]["manager"] == "conda"
    assert "conda-forge" in json.dumps(plan["env"])


@pytest.mark.examples
@pytest.mark.slow
def test_quick_start_then_browse_runs(checkout: Path) -> None:
    for _ in range(2):
        result = _mlproj(QUICK_START, checkout)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "epoch 2/2" in result.stdout
    listed = _mlproj(AFTER_RUNS[0], checkout)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count("FINISHED") == 2
    ids = _mlproj("mlproj runs list --quiet --limit 2", checkout).stdout.split()
    assert len(ids) == 2
    compared = _mlproj(f"mlproj runs compare {ids[0]} {ids[1]}", checkout)
    assert compared.returncode == 0, compared.stderr
    assert "val_accuracy" in compared.stdout
    _check_mlflow_ui(checkout, expected_runs=2)


@pytest.mark.examples
@pytest.mark.slow
def test_sweep_the_example_then_see_it_nested(checkout: Path) -> None:
    result = _mlproj(SWEEP, checkout)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "best: run " in result.stdout
    _check_mlflow_ui(checkout, expected_runs=5)  # the parent and its four trainings
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.tracking import MlflowClient

    runs = MlflowClient((checkout / "mlruns").as_uri()).search_runs(["0"])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].data.tags["mlproj.sweep"] == "grid"
    nested = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(nested) == 4


def _check_mlflow_ui(cwd: Path, expected_runs: int) -> None:
    """`mlflow ui` as the README writes it serves our runs (default 127.0.0.1:5000)."""
    env: dict[str, str] = {}
    argv: list[str] = []
    for word in shlex.split(MLFLOW_UI):
        if "=" in word and not argv:
            key, _, value = word.partition("=")
            env[key] = value
        else:
            argv.append(word)
    mlflow = shutil.which("mlflow") or f"{Path(sys.executable).parent}/mlflow"
    proc = subprocess.Popen(
        [mlflow, *argv[1:]],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = "http://127.0.0.1:5000/api/2.0/mlflow"
        replies: list[requests.Response] = []

        def answered() -> bool:
            with contextlib.suppress(requests.ConnectionError):
                replies.append(
                    requests.post(f"{base}/runs/search", json={"experiment_ids": ["0"]}, timeout=5)
                )
            return bool(replies)

        wait_until(answered, 90, 0.5, what="`mlflow ui` answers on 127.0.0.1:5000", process=proc)
        reply = replies[0]
        assert reply.status_code == 200, reply.text
        runs = reply.json()["runs"]
        assert len(runs) == expected_runs
        assert {r["info"]["status"] for r in runs} == {"FINISHED"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
