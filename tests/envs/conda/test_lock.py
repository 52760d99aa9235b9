"""conda-lock.yml: written by `mlproj lock` (rattler solves), installed exactly with no solve,
stale locks warned about or refused with --frozen."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from mlproj.envs import cache
from mlproj.envs.conda.lockfile import lock_project
from mlproj.envs.conda.manager import MANAGER
from mlproj.envs.conda.solve import current_platform
from mlproj.errors import EnvError
from tests.envs.conda import channel as chan
from tests.envs.conda.conftest import launch, options, write_conda_project
from tests.helpers import needs_uv, run_cli


def _conda_lock_schema() -> dict[str, object]:
    import conda_lock.lockfile.v1 as v1

    schema_file = Path(v1.__file__).parent / "conda-lock-v1.schema.json"
    data: dict[str, object] = json.loads(schema_file.read_text())
    return data


def test_lock_command_writes_a_conda_lock_file(channel: Path, tmp_path: Path) -> None:
    import jsonschema
    from conda_lock.lockfile import parse_conda_lock_file

    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    result = run_cli(["lock", str(project.env.file)])
    assert result.returncode == 0, result.stderr
    lockfile = project.directory / "conda-lock.yml"
    assert f"wrote {lockfile}" in result.stdout
    assert f"{current_platform()}: 2 conda packages" in result.stdout

    jsonschema.validate(yaml.safe_load(lockfile.read_text()), _conda_lock_schema())
    lock = parse_conda_lock_file(lockfile)
    assert lock.metadata.platforms == [current_platform()]
    assert lock.metadata.sources == ["conda.yml"]
    found = {dep.name: dep for dep in lock.package}
    assert sorted(found) == ["mlp-app", "mlp-lib"]
    lib = found["mlp-lib"]
    assert lib.version == "2.0" and lib.manager == "conda"
    lib_file = channel / "noarch" / chan.lib("2.0").filename
    assert lib.url == lib_file.as_uri()
    assert lib.hash.sha256 == hashlib.sha256(lib_file.read_bytes()).hexdigest()
    assert lib.hash.md5 == hashlib.md5(lib_file.read_bytes()).hexdigest()
    assert found["mlp-app"].dependencies == {"mlp-lib": ">=1"}

    # conda-lock's own installer input: the explicit list it renders from our lock
    from conda_lock.conda_lock import render_lockfile_for_platform

    explicit = render_lockfile_for_platform(
        lockfile=lock,
        include_dev_dependencies=False,
        extras=set(),
        kind="explicit",
        platform=current_platform(),
    )
    assert f"{lib_file.as_uri()}#{lib.hash.md5}" in explicit


def test_lock_command_finds_the_conda_file_of_a_project_dir(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    result = run_cli(["lock", "--json"], cwd=project.directory)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["lockfile"] == str(project.directory / "conda-lock.yml")
    assert data["platforms"][current_platform()]["conda"] == ["mlp-app=1.0=0", "mlp-lib=2.0=0"]


def test_locking_twice_writes_the_same_bytes(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    first = lock_project(project.directory).path.read_bytes()
    assert lock_project(project.directory).path.read_bytes() == first


def test_install_from_a_fresh_lock_does_no_solve(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    lockfile = lock_project(project.directory).path
    # a newer mlp-lib appears, then the channel loses its index: a solve could not even run
    chan.build_channel(channel, [chan.lib("3.0")])
    chan.remove_repodata(channel)

    assert MANAGER.plan(project, options())["lockfile"]["state"] == "used"
    prepared = MANAGER.prepare(project, options(frozen=True))
    code, out, _ = launch(prepared, "mlp-app", project.directory)
    assert code == 0
    assert "lib version=2.0" in out  # exactly what was locked
    assert prepared.facts.tags()["mlproj.env.lockfile"] == "used"
    assert (
        prepared.facts.details["lock_sha256"] == hashlib.sha256(lockfile.read_bytes()).hexdigest()
    )
    saved = {path.name: path for path, where in prepared.artifacts}
    assert saved["conda-lock.yml"].read_bytes() == lockfile.read_bytes()
    assert "mlp-lib-2.0-0.tar.bz2#" in saved["conda-explicit.txt"].read_text()


def test_the_lockfile_is_part_of_the_key(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    solved = MANAGER.plan(project, options())["key"]
    lock_project(project.directory)
    assert MANAGER.plan(project, options())["key"] != solved


def test_a_stale_lock_is_warned_about_and_conda_yml_is_solved(
    channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    lockfile = lock_project(project.directory).path
    write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])  # edited after
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "stale"

    prepared = MANAGER.prepare(project, options())
    err = capsys.readouterr().err
    assert f"warning: {lockfile} is stale" in err and "mlproj lock" in err
    assert "lib version=2.0" in launch(prepared, "mlp-app", project.directory)[1]
    assert prepared.facts.tags()["mlproj.env.lockfile"] == "stale"
    # the run records a lock of what it solved (lib 2.0), not the stale file (lib 1.0)
    recorded = {path.name: path for path, _ in prepared.artifacts}["conda-lock.yml"]
    assert recorded.read_bytes() != lockfile.read_bytes()
    assert "mlp-lib-2.0-0.tar.bz2" in recorded.read_text()


def test_frozen_refuses_a_stale_lock(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    lockfile = lock_project(project.directory).path
    write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    with pytest.raises(EnvError) as info:
        MANAGER.prepare(project, options(frozen=True))
    message = info.value.one_line()
    assert str(lockfile) in message and "stale" in message and "mlproj lock" in message
    assert not list(cache.envs_root().glob("[0-9a-f]*[0-9a-f]"))  # nothing was built


def test_frozen_refuses_a_missing_lock(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    with pytest.raises(EnvError, match=r"conda-lock\.yml is missing"):
        MANAGER.prepare(project, options(frozen=True))


def test_a_lock_for_another_platform_only_is_stale(channel: Path, tmp_path: Path) -> None:
    other = "osx-arm64" if current_platform() != "osx-arm64" else "linux-64"
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    lock_project(project.directory, [other])
    state = MANAGER.plan(project, options())["lockfile"]
    assert state["state"] == "stale" and current_platform() in state["reason"]


def test_several_platforms_and_relocking_keeps_them(channel: Path, tmp_path: Path) -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    here = current_platform()
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    result = run_cli(["lock", str(project.env.file), "-p", here, "-p", "osx-arm64"])
    assert result.returncode == 0, result.stderr
    write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    lock_project(project.directory)  # no -p: this platform plus the ones already locked

    lock = parse_conda_lock_file(project.directory / "conda-lock.yml")
    assert sorted(lock.metadata.platforms) == sorted({here, "osx-arm64"})
    assert set(lock.metadata.content_hash) == {here, "osx-arm64"}
    # conda-lock's hash covers each platform's virtual packages, so they differ
    assert lock.metadata.content_hash[here] != lock.metadata.content_hash["osx-arm64"]
    libs = {dep.platform: dep.version for dep in lock.package if dep.name == "mlp-lib"}
    assert libs == {here: "1.0", "osx-arm64": "1.0"}
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "used"


def test_lock_errors_are_one_line(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib>9"])
    result = run_cli(["lock", str(project.env.file)])
    assert result.returncode == 1
    assert "mlproj: error: cannot solve conda.yml: No candidates were found for mlp-lib" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    bad = run_cli(["lock", str(project.env.file), "-p", "amiga-68k"])
    assert bad.returncode == 1 and "unknown conda platform 'amiga-68k'" in bad.stderr


@needs_uv
def test_pip_packages_are_locked_and_installed_exactly(channel: Path, tmp_path: Path) -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    wheels = tmp_path / "wheels"
    wheel = chan.write_wheel(wheels, "mlp-greet", "0.1")
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python", "mlp-app"],
        pip=["--no-index", f"--find-links {wheels}", "mlp-greet"],
    )
    lockfile = lock_project(project.directory).path
    [pip] = [dep for dep in parse_conda_lock_file(lockfile).package if dep.manager == "pip"]
    assert (pip.name, pip.version, pip.url) == ("mlp-greet", "0.1", wheel.as_uri())
    assert pip.hash.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()

    chan.write_wheel(wheels, "mlp-greet", "0.2")  # newer, but not locked
    prepared = MANAGER.prepare(project, options(frozen=True))
    code, out, err = launch(prepared, "mlp-greet", project.directory)
    assert (code, out) == (0, "pip-package 0.1\n"), err


@needs_uv
def test_changed_pip_options_make_the_lock_stale(channel: Path, tmp_path: Path) -> None:
    import jsonschema

    wheels, other = tmp_path / "wheels", tmp_path / "other-wheels"
    chan.write_wheel(wheels, "mlp-greet", "0.1")
    chan.write_wheel(other, "mlp-greet", "0.1")
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python"],
        pip=["--no-index", f"--find-links {wheels}", "mlp-greet"],
    )
    lockfile = lock_project(project.directory).path
    jsonschema.validate(yaml.safe_load(lockfile.read_text()), _conda_lock_schema())
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "used"

    write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python"],
        pip=["--no-index", f"--find-links {other}", "mlp-greet"],
    )
    state = MANAGER.plan(project, options())["lockfile"]
    assert state["state"] == "stale" and "pip options" in state["reason"]


def test_a_run_after_locking_does_not_load_conda_lock(channel: Path, tmp_path: Path) -> None:
    """conda-lock takes over a second to import; its content hash is remembered instead."""
    import subprocess
    import sys
    import textwrap

    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    lock_project(project.directory)
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from mlproj.envs.base import EnvOptions
        from mlproj.envs.conda.manager import MANAGER
        from mlproj.spec.model import EnvDecl, Project
        root = Path(sys.argv[1])
        project = Project(root, "p", EnvDecl("conda", root / "conda.yml"))
        prepared = MANAGER.prepare(project, EnvOptions(manager="conda"))
        print(prepared.facts.tags()["mlproj.env.lockfile"], "conda_lock" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script, str(project.directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout.split() == ["used", "False"], done.stderr


def test_a_lock_without_mlproj_metadata_is_judged_by_conda_locks_hash(
    channel: Path, tmp_path: Path
) -> None:
    """As for a lock written by the conda-lock tool itself: its content hash decides."""
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    lockfile = lock_project(project.directory).path
    data = yaml.safe_load(lockfile.read_text())
    assert set(data["metadata"].pop("custom_metadata")) == {"mlproj_source_sha256"}
    lockfile.write_text(yaml.safe_dump(data, sort_keys=False))
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "used"

    conda_file = project.directory / "conda.yml"
    conda_file.write_text(
        "# a comment changes the bytes, not the environment\n" + conda_file.read_text()
    )
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "used"
    write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    assert MANAGER.plan(project, options())["lockfile"]["state"] == "stale"


@needs_uv
def test_a_changed_pip_file_fails_the_locked_install(channel: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    chan.write_wheel(wheels, "mlp-greet", "0.1")
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python"],
        pip=["--no-index", f"--find-links {wheels}", "mlp-greet"],
    )
    lock_project(project.directory)
    chan.write_wheel(wheels, "mlp-greet", "0.1", body="TAMPERED = True\n")  # same name
    with pytest.raises(EnvError, match=r"pip install \(locked\) failed.*[Hh]ash"):
        MANAGER.prepare(project, options())


def test_noarch_python_packages_install_from_the_lock(channel: Path, tmp_path: Path) -> None:
    """The lock has no `noarch` field: the installer must learn it from the package itself."""
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["python", "mlp-pylib"])
    lock_project(project.directory)
    chan.remove_repodata(channel)
    prepared = MANAGER.prepare(project, options(frozen=True))
    code, out, err = launch(
        prepared, "python -c 'import mlp_pylib; print(mlp_pylib.VALUE)'", project.directory
    )
    assert (code, out) == (0, "from conda\n"), err
