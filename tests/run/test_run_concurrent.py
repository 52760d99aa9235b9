"""Four `mlproj run`s that need the same cold environment: one builds it, all four finish."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.envs.pkgs import make_source
from tests.helpers import needs_uv, write_project
from tests.run.conftest import mlflow_client


# Four whole runs and a build that sleeps (9 s on two cores): the fast lane keeps the same
# one-build rule at the manager level (test_virtualenv.py::test_four_processes_one_build).
@pytest.mark.slow
@needs_uv
def test_four_runs_share_one_cold_build(tmp_path: Path, store: Path) -> None:
    proj = tmp_path / "proj"
    make_source(proj, "mlpt-shared", sleep=1.0)
    write_project(
        proj,
        'python_env: python_env.yaml\nentry_points:\n  main:\n    command: "python show.py"\n',
        {
            "python_env.yaml": "dependencies: [./mlpt-shared-1.0]\n",
            "show.py": "import mlpt_shared\nprint(mlpt_shared.VERSION)\n",
        },
    )
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
    }
    argv = [sys.executable, "-m", "mlproj", "run", str(proj), "--tracking-uri", str(store)]
    procs = [
        subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    assert all(out.strip().endswith("1.0") for out, _ in outputs)
    builders = [err for _, err in outputs if "creating virtualenv" in err]
    assert len(builders) == 1, [err for _, err in outputs]
    runs = mlflow_client(store).search_runs(["0"])
    assert [r.info.status for r in runs] == ["FINISHED"] * 4
    assert len({r.data.tags["mlproj.env.key"] for r in runs}) == 1
