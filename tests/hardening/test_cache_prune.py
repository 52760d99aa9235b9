"""Item 15: `mlproj cache prune` removes git checkouts, zip copies and environments by age and
by total size, and never what a running run holds."""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
from pathlib import Path

from mlproj._util.filelock import try_lock, unlock
from tests.conftest import run_cli
from tests.sources.gitrepos import commit_files, git

MLPROJECT = "name: p\nentry_points:\n  main:\n    command: 'true'\n"


def _prune(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["cache", "prune", "--no-docker", *args], env={"MLPROJ_HOME": str(home)})


def _git_checkout(tmp_path: Path, home: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    commit_files(repo, {"MLproject": MLPROJECT}, "init")
    done = run_cli(
        ["run", str(repo), "--version", "main", "--env-manager", "local"],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    (checkout,) = [p for p in home.glob("git/*/checkouts/*") if not p.name.startswith(".")]
    return checkout


def _zip_copy(tmp_path: Path, home: Path, name: str, padding: int = 0) -> Path:
    archive = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("MLproject", MLPROJECT)
        zf.writestr("data.bin", name.encode() + os.urandom(padding))
    before = set(home.glob("zips/[!.]*"))
    done = run_cli(
        ["run", str(archive), "--env-manager", "local"],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(home)},
    )
    assert done.returncode == 0, done.stderr
    (copy,) = set(home.glob("zips/[!.]*")) - before
    return copy


def _lease(path: Path) -> Path:
    return path.with_name(f".{path.name}.lease")


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    for p in (path, _lease(path)):
        os.utime(p, (stamp, stamp))


def test_by_age_and_never_a_leased_copy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    checkout = _git_checkout(tmp_path, home)
    copy = _zip_copy(tmp_path, home, "a")
    fresh = _zip_copy(tmp_path, home, "b")
    _age(checkout, 40)
    _age(copy, 40)
    held = try_lock(_lease(checkout))  # as a running run of that commit holds it
    assert held is not None
    try:
        done = _prune(home)
        assert done.returncode == 0, done.stderr
        assert checkout.is_dir() and "in use" in done.stderr
        assert not copy.exists() and fresh.is_dir()
    finally:
        unlock(held)
    again = _prune(home)
    assert not checkout.exists() and fresh.is_dir(), again.stdout + again.stderr


def test_by_total_size_least_recently_used_first(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = _zip_copy(tmp_path, home, "old", padding=300_000)
    new = _zip_copy(tmp_path, home, "new", padding=300_000)
    _age(old, 2)
    dry = _prune(home, "--max-size", "400k", "--dry-run")
    assert old.is_dir() and "would remove zip copy" in dry.stdout
    done = _prune(home, "--max-size", "400k")
    assert done.returncode == 0, done.stderr
    assert not old.exists() and new.is_dir()


def test_an_environment_in_use_is_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").write_text(MLPROJECT.replace("name: p", "name: p\npython_env: pe.yaml"))
    (project / "pe.yaml").write_text("dependencies: []\n")
    made = run_cli(["env", "create", str(project)], env={"MLPROJ_HOME": str(home)})
    assert made.returncode == 0, made.stderr
    (env_dir,) = [p for p in (home / "envs").iterdir() if p.is_dir() and p.name[0] != "."]
    user = subprocess.Popen(["sleep", "60"], env={**os.environ, "VIRTUAL_ENV": str(env_dir)})
    try:
        done = _prune(home, "--older-than", "0s")
        assert env_dir.is_dir() and "in use" in done.stderr, done.stdout + done.stderr
    finally:
        user.kill()
        user.wait()
    done = _prune(home, "--older-than", "0s")
    assert not env_dir.exists(), done.stdout + done.stderr
