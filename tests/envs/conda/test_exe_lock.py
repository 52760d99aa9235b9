"""A `--conda-exe` build is locked by reading the prefix's own package records back.

No conda, mamba or micromamba can be installed on this machine (none is packaged for it), so
the prefix here is one rattler built: conda-meta/ records are the same format whichever tool
writes them. The lock read back from it must install the same packages with no solve.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import yaml

from mlproj.commands.runs.show import reproducible
from mlproj.envs import cache
from mlproj.envs.buildlog import BuildLog
from mlproj.envs.conda import manager as conda_manager
from mlproj.envs.conda.exe import CondaExe
from mlproj.envs.conda.lockfile import EXTRA_LOCK
from mlproj.envs.conda.manager import MANAGER
from mlproj.envs.recorded import CONDA_LOCK
from tests.envs.conda import channel as chan
from tests.envs.conda.conftest import launch, options, write_conda_project


def test_a_prefix_is_locked_from_its_records_and_the_lock_installs_with_no_solve(
    channel: Path, tmp_path: Path
) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    built = MANAGER.prepare(project, options())
    prefix = cache.env_path(built.facts.tags()["mlproj.env.key"])
    records = prefix / conda_manager.RECORDS_DIR
    (records / CONDA_LOCK).unlink()  # as after a conda/mamba/micromamba build
    inputs = conda_manager.read_inputs(project, options())
    with BuildLog(tmp_path / "build.log", "conda") as reporter:
        conda_manager._lock_what_the_exe_installed(prefix, inputs, reporter)
    lock = records / CONDA_LOCK
    packages = yaml.safe_load(lock.read_text())["package"]
    assert sorted((p["name"], p["version"]) for p in packages) == [
        ("mlp-app", "1.0"),
        ("mlp-lib", "2.0"),
    ]
    assert all(p["hash"]["md5"] and p["url"].startswith("file://") for p in packages)
    assert not (records / conda_manager.UNLOCKED).exists()

    chan.remove_repodata(channel)  # nothing can be solved: only the lock can rebuild it
    other = write_conda_project(tmp_path / "other", [channel.as_uri()], ["mlp-app"])
    rebuilt = MANAGER.prepare(other, options(extra={EXTRA_LOCK: str(lock)}))
    code, out, _ = launch(rebuilt, "mlp-app", other.directory)
    assert code == 0 and "lib version=2.0" in out


def test_an_unpinned_pip_section_is_said_in_runs_show(channel: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    chan.write_wheel(wheels, "mlp-greet", "0.1")
    pip = ["--no-index", f"--find-links {wheels}", "mlp-greet"]
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["python"], pip=pip)
    built = MANAGER.prepare(project, options())
    prefix = cache.env_path(built.facts.tags()["mlproj.env.key"])
    # said of a micromamba build (the build above made the prefix: no micromamba here)
    inputs = dataclasses.replace(
        conda_manager.read_inputs(project, options()),
        exe=CondaExe(Path("/opt/micromamba/bin/micromamba"), "micromamba", "--conda-exe"),
    )
    with BuildLog(tmp_path / "build.log", "conda") as reporter:
        conda_manager._lock_what_the_exe_installed(prefix, inputs, reporter)
    again = conda_manager.prepared_env(prefix, inputs)
    unlocked = again.facts.tags()["mlproj.env.unlocked"]
    assert "micromamba installed the pip: section" in unlocked
    shown = reproducible({"mlproj.reproducible": "true", "mlproj.env.unlocked": unlocked})
    assert shown.startswith("not exactly: micromamba installed the pip: section")
