"""A conda run is reproduced from the conda-lock.yml it recorded, with no solve possible."""

from __future__ import annotations

import hashlib
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
        env={"MLPROJ_HOME": str(tmp_path / "home-c"), "UV_CACHE_DIR": str(tmp_path / "uv-c")},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "lib version=2.0" in again.stdout
    logs = "".join(p.read_text() for p in (tmp_path / "home-c" / "logs").glob("*.log"))
    assert "reading conda-lock.yml (no solve)" in logs


@pytest.mark.slow
def test_a_packed_conda_bundle_runs_with_no_solve_on_a_fresh_cache(
    channel: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    write_conda_project(work, [channel.as_uri()], ["mlp-app"])
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "conda project", cwd=work)
    bundle = tmp_path / "bundle.zip"
    packed = run_cli(["pack", str(work), "-o", str(bundle), "--json"], cwd=tmp_path)
    assert packed.returncode == 0, packed.stderr
    assert json.loads(packed.stdout)["generated_locks"] == ["conda-lock.yml"]

    chan.remove_repodata(channel)  # the bundle's lock names the package files themselves
    ran = run_cli(
        ["run", str(bundle), "--frozen", "--tracking-uri", str(tmp_path / "mlruns")],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "fresh")},
    )
    assert ran.returncode == 0, ran.stderr
    assert "lib version=2.0" in ran.stdout


def test_a_conda_lock_for_another_platform_is_refused_before_any_run(tmp_path: Path) -> None:
    from mlproj.tracking.stores.file import FileStore

    work = tmp_path / "work"
    write_conda_project(work, ["conda-forge"], ["mlp-app"])
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "conda project", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    store = FileStore((tmp_path / "mlruns").as_uri())
    tags = {
        "mlflow.source.git.commit": commit.strip(),
        "mlproj.source.uri": work.as_uri(),
        "mlproj.reproducible": "true",
        "mlproj.env.manager": "conda",
    }
    info = store.create_run("0", user_id="colleague", start_time=1, tags=tags, run_name=None)
    lock = "version: 1\nmetadata:\n  platforms: [osx-arm64]\n  content_hash: {}\npackage: []\n"
    store.write_artifact(info.run_id, "environment/conda-lock.yml", lock.encode())
    store.set_terminated(info.run_id, "FINISHED", 2)

    refused = run_cli(
        ["reproduce", info.run_id, "--tracking-uri", str(tmp_path / "mlruns")], cwd=tmp_path
    )
    assert refused.returncode == 1
    assert "conda lock for osx-arm64, not for this machine" in refused.stderr
    assert len(store.search_runs(["0"])) == 1


@pytest.mark.slow
def test_the_pip_section_of_a_solved_run_is_reproduced_from_its_recorded_pins(
    channel: Path, tmp_path: Path
) -> None:
    wheels = tmp_path / "wheels"
    chan.write_wheel(wheels, "mlp-greet", "1.0")
    work = tmp_path / "work"
    pip = ["--no-index", f"--find-links {wheels}", "mlp-greet"]
    write_conda_project(work, [channel.as_uri()], ["python"], pip=pip)
    (work / "MLproject").write_text(
        "name: conda-pip\nconda_env: conda.yml\nentry_points:\n  main:\n    command: mlp-greet\n"
    )
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "conda project with pip packages", cwd=work)
    bare = tmp_path / "repo.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    store = tmp_path / "mlruns"

    first = run_cli(
        ["run", bare.as_uri(), "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "home-a")},
    )
    assert first.returncode == 0, first.stderr
    assert "pip-package 1.0" in first.stdout
    original = _run_id(first.stderr)
    pins = open_store(str(store)).read_artifact(original, "environment/pip-requirements.lock.txt")
    sha = hashlib.sha256((wheels / "mlp_greet-1.0-py3-none-any.whl").read_bytes()).hexdigest()
    requirements = [x for x in pins.decode().splitlines() if x and not x.startswith("#")]
    assert requirements == [f"mlp-greet==1.0 --hash=sha256:{sha}"]  # the pip step's alone

    chan.write_wheel(wheels, "mlp-greet", "2.0")  # a new resolve of the pip: section takes 2.0
    chan.remove_repodata(channel)  # and nothing conda can be solved
    home = tmp_path / "home-b"
    again = run_cli(
        ["reproduce", original, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(home)},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "pip-package 1.0" in again.stdout
    assert "from environment/conda-lock.yml and environment/pip-requirements.lock.txt" in (
        again.stderr
    )
    logs = "".join(p.read_text() for p in (home / "logs").glob("*.log"))
    assert "pip install (1 recorded pins, no resolution)" in logs
    assert "--no-deps" in logs

    # the recorded hash is checked: a different file under the same name is refused
    (wheels / "mlp_greet-1.0-py3-none-any.whl").unlink()
    chan.write_wheel(wheels, "mlp-greet", "1.0", body="CHANGED = True\n")
    refused = run_cli(
        ["reproduce", original, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "home-c"), "UV_CACHE_DIR": str(tmp_path / "uv-c")},
    )
    assert refused.returncode != 0
    assert "hash" in refused.stderr.lower(), refused.stderr


def test_a_conda_run_without_a_lock_says_why_before_any_run(tmp_path: Path) -> None:
    from mlproj.tracking.stores.file import FileStore

    work = tmp_path / "work"
    write_conda_project(work, ["conda-forge"], ["mlp-app"])
    git("init", "-q", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "conda project", cwd=work)
    store = FileStore((tmp_path / "mlruns").as_uri())
    why = "its conda packages could not be locked (no md5)"
    tags = {
        "mlflow.source.git.commit": git("rev-parse", "HEAD", cwd=work).strip(),
        "mlproj.source.uri": work.as_uri(),
        "mlproj.reproducible": "true",
        "mlproj.env.manager": "conda",
        "mlproj.env.unlocked": why,
    }
    info = store.create_run("0", user_id="colleague", start_time=1, tags=tags, run_name=None)
    store.set_terminated(info.run_id, "FINISHED", 2)

    refused = run_cli(
        ["reproduce", info.run_id, "--tracking-uri", str(tmp_path / "mlruns")], cwd=tmp_path
    )
    assert refused.returncode == 1
    assert f"recorded no conda lock: {why}" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert len(store.search_runs(["0"])) == 1
