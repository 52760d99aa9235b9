"""A conda run is reproduced from the conda-lock.yml it recorded, with no solve possible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlproj.tracking import open_store
from tests.conftest import run_cli
from tests.envs.conda import channel as chan
from tests.envs.conda.conftest import write_conda_project
from tests.sources.gitrepos import git


def _run_id(stderr: str) -> str:
    line = next(x for x in stderr.splitlines() if x.startswith("mlproj: run "))
    return line.split()[2]


@pytest.mark.slow
def test_a_solved_conda_run_is_reproduced_from_its_recorded_lock(
    channel: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    write_conda_project(work, [channel.as_uri()], ["mlp-app"])
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "conda project", cwd=work)
    bare = tmp_path / "repo.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    url = bare.as_uri()
    store = tmp_path / "mlruns"

    first = run_cli(["run", url, "--tracking-uri", str(store)], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "lib version=2.0" in first.stdout
    original = _run_id(first.stderr)
    artifacts = open_store(str(store)).list_artifacts(original, "environment")
    assert "environment/conda-lock.yml" in artifacts  # what the solve installed, as a lock

    chan.write_package(channel / "noarch", chan.lib("3.0"))
    chan.index(channel)
    drifted = run_cli(
        ["run", url, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "home-b")},
    )
    assert drifted.returncode == 0, drifted.stderr
    assert "lib version=3.0" in drifted.stdout
    diff = run_cli(
        ["runs", "diff", original, _run_id(drifted.stderr), "--tracking-uri", str(store), "--json"]
    )
    assert diff.returncode == 0, diff.stderr
    assert json.loads(diff.stdout)["environment"]["changed"] == {"mlp-lib": ["2.0", "3.0"]}

    chan.remove_repodata(channel)  # from here on, nothing can be solved from the channel
    again = run_cli(
        ["reproduce", original, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "home-c")},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "lib version=2.0" in again.stdout
    logs = "".join(p.read_text() for p in (tmp_path / "home-c" / "logs").glob("*.log"))
    assert "reading conda-lock.yml (no solve)" in logs
