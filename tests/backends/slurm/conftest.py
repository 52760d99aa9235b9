"""Real Slurm: the one-node cluster .ci/setup.d/50-slurm.sh starts (SLURM_CONF exported)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import run_cli

# The tests here submit real jobs: the `slurm` marker keeps them out of the fast lane, which
# starts no service (a machine may have sbatch installed and no cluster running).
needs_slurm = pytest.mark.slurm


@pytest.fixture(autouse=True)
def slurm_installed(request: pytest.FixtureRequest) -> None:
    """A test marked `slurm` is skipped where there is no Slurm at all (the dry runs need none)."""
    if request.node.get_closest_marker("slurm") is None:
        return
    if shutil.which("sbatch") is None and not os.environ.get("MLPROJ_TEST_SLURM"):
        pytest.skip("no Slurm here (.ci/setup.d/50-slurm.sh starts one)")


def write_project(root: Path, command: str, name: str = "tiny") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLproject").write_text(
        f"name: {name}\n"
        "entry_points:\n"
        "  main:\n"
        "    parameters:\n"
        "      alpha: {type: float, default: 0.5}\n"
        f"    command: {json.dumps(command)}\n"
    )
    return root


def mlproj(args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run_cli(args, cwd=cwd, timeout=timeout)


def run_json(store: Path, run_id: str, cwd: Path) -> dict[str, object]:
    done = mlproj(["runs", "show", "--tracking-uri", str(store), run_id, "--json"], cwd)
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data


def squeue_state(job_id: str) -> str:
    done = subprocess.run(
        ["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()
