"""The virtualenv manager with the real uv, installing from a local wheelhouse (no index)."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mlproj.envs import cache
from mlproj.envs.base import EnvOptions
from mlproj.envs.virtualenv import manager as virtualenv
from mlproj.errors import EnvError
from mlproj.paths import build_logs_dir
from mlproj.spec.model import Project
from tests.envs.conftest import project, run_in
from tests.envs.pkgs import make_source
from tests.helpers import needs_uv, wait_until

pytestmark = needs_uv  # the manager builds every environment with uv

OPTIONS = EnvOptions(manager="virtualenv")
PY = f"{sys.version_info.major}.{sys.version_info.minor}"

PYTHON_ENV = f"""\
python: "{PY}"
build_dependencies: []
dependencies:
  - mlpt-beta
  - -r requirements.txt
  - -c constraints.txt
"""


def _project(tmp_path: Path, requirements: str = "mlpt-gamma\n") -> Project:
    return project(
        tmp_path / "proj",
        "python_env.yaml",
        PYTHON_ENV,
        files={"requirements.txt": requirements, "constraints.txt": "mlpt-alpha==1.0\n"},
    )


@pytest.mark.usefixtures("offline")
def test_cold_build_installs_and_activates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = _project(tmp_path)
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    key = env.facts.tags()["mlproj.env.key"]
    path = cache.env_path(key)
    assert env.facts.tags()["mlflow.project.env"] == "virtualenv"
    assert env.facts.tags()["mlproj.env.manager"] == "virtualenv"

    done = run_in(
        env.patch,
        'echo "$VIRTUAL_ENV"; command -v python; alpha-version; '
        "python -c 'import mlpt_beta, mlpt_gamma, sys; print(sys.prefix)'",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(path), str(path / "bin" / "python"), "1.0", str(path)]

    saved = {path.name: path for path, where in env.artifacts if where == "environment"}
    assert sorted(saved) == ["requirements.frozen.txt", "requirements.lock.txt"]
    frozen = saved["requirements.frozen.txt"]
    lines = frozen.read_text().splitlines()
    assert {"mlpt-alpha==1.0", "mlpt-beta==1.0", "mlpt-gamma==0.1"} <= set(lines)
    hashed = saved["requirements.lock.txt"].read_text()  # the same pins, with the wheels' hashes
    assert "mlpt-gamma==0.1" in hashed and hashed.count("--hash=sha256:") == 3
    assert env.facts.details["lock_sha256"] == hashlib.sha256(frozen.read_bytes()).hexdigest()

    # the freeze is read off the lock (plain pins, installed --no-deps): uv must say the same
    uv_freeze = [virtualenv.uv_binary(), "pip", "freeze", "--python", str(path / "bin" / "python")]
    assert subprocess.run(uv_freeze, capture_output=True, text=True).stdout == frozen.read_text()

    err = capsys.readouterr().err
    assert f"mlproj: virtualenv: creating virtualenv (python {PY}" in err
    assert "; resolving 1 requirement + requirements.txt, constraints.txt\n" in err
    assert "mlproj: virtualenv: installing 3 locked packages\n" in err
    log = cache.log_path(key).read_text()
    exits = [line.split(": ", 1)[1] for line in log.splitlines() if "] exit 0 after " in line]
    assert sorted(exits) == ["uv pip compile", "uv pip install", "uv venv"]  # no freeze
    assert "--no-deps" in log and "mlpt_gamma" in log.replace("-", "_")


@pytest.mark.usefixtures("offline")
def test_warm_reuse_does_not_rebuild(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    first = virtualenv.MANAGER.prepare(proj, OPTIONS)
    path = cache.env_path(first.facts.tags()["mlproj.env.key"])
    marker = (path / cache.MARKER).stat()
    log = cache.log_path(first.facts.tags()["mlproj.env.key"]).read_text()

    again = virtualenv.MANAGER.prepare(proj, OPTIONS)
    assert again.facts.tags() == first.facts.tags()
    assert (path / cache.MARKER).stat().st_mtime_ns == marker.st_mtime_ns
    assert (path / cache.MARKER).stat().st_ino == marker.st_ino
    assert cache.log_path(first.facts.tags()["mlproj.env.key"]).read_text() == log


def test_uv_version_is_the_installed_packages() -> None:
    """Read from the dist-info name (cheap); it must say what importlib.metadata says."""
    from importlib.metadata import version

    assert virtualenv.uv_version() == version("uv")


@pytest.mark.usefixtures("offline")
def test_key_follows_what_shapes_the_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = _project(tmp_path)
    base = virtualenv.resolve(proj).key
    assert virtualenv.resolve(proj).key == base

    reqs = tmp_path / "proj" / "requirements.txt"
    reqs.write_text("mlpt-gamma==0.1\n")
    changed_reqs = virtualenv.resolve(proj).key
    (tmp_path / "proj" / "constraints.txt").write_text("mlpt-alpha==2.0\n")
    changed_constraints = virtualenv.resolve(proj).key
    (tmp_path / "proj" / "python_env.yaml").write_text(PYTHON_ENV + "  - mlpt-gamma\n")
    changed_env_file = virtualenv.resolve(proj).key
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "file:///somewhere/simple")
    changed_index = virtualenv.resolve(proj).key
    keys = [base, changed_reqs, changed_constraints, changed_env_file, changed_index]
    assert len(set(keys)) == len(keys)


@pytest.mark.usefixtures("offline")
def test_constraint_and_requirement_files_are_used(tmp_path: Path) -> None:
    proj = _project(tmp_path, requirements="mlpt-alpha\n")
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    frozen = env.artifacts[0][0].read_text()
    assert "mlpt-alpha==1.0" in frozen  # 2.0 exists, constraints.txt pins 1.0


@pytest.mark.usefixtures("offline")
def test_missing_python_lists_the_versions_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")  # tests/envs/test_pythons.py: installs
    proj = project(tmp_path / "p", "python_env.yaml", 'python: "2.7"\ndependencies: []\n')
    with pytest.raises(EnvError) as info:
        virtualenv.MANAGER.prepare(proj, OPTIONS)
    text = info.value.one_line()
    assert "no Python matching '2.7'" in text
    assert platform.python_version() in text.split("found:")[1]
    assert "downloads are off" in text and "uv python install 2.7" in text
    assert cache.list_envs() == []


@pytest.mark.usefixtures("offline")
def test_bare_project_gets_an_empty_venv_with_this_python(tmp_path: Path) -> None:
    proj = project(tmp_path / "bare")
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    done = run_in(
        env.patch,
        "python -c 'import sys, platform; "
        "print(platform.python_version(), sys.prefix != sys.base_prefix)'",
        tmp_path,
    )
    assert done.stdout.split() == [platform.python_version(), "True"]
    assert virtualenv.MANAGER.plan(proj, OPTIONS)["cached"] is True


@pytest.mark.usefixtures("offline")
def test_conda_yaml_is_converted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conda = f"""\
name: demo
channels: [conda-forge]
dependencies:
  - python={PY}
  - numpy>=1.26
  - pip:
      - mlpt-gamma
"""
    proj = project(tmp_path / "c", "conda.yaml", conda, kind="conda")
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    assert "mlpt-gamma==0.1" in env.artifacts[0][0].read_text()
    err = capsys.readouterr().err
    assert "mlproj: warning: conda.yaml: conda packages numpy>=1.26 are not installed" in err


@pytest.mark.usefixtures("offline")
def test_build_dependencies_mapping_installs_its_keys_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f'python: "{PY}"\nbuild_dependencies: {{mlpt-alpha: "1.0"}}\ndependencies: []\n'
    proj = project(tmp_path / "m", "python_env.yaml", text)
    assert virtualenv.MANAGER.plan(proj, OPTIONS)["warnings"]
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    assert "mlpt-alpha==2.0" in env.artifacts[0][0].read_text()  # the key, as MLflow installs
    err = capsys.readouterr().err
    assert "its keys are installed (mlpt-alpha) and the values ignored" in err
    assert "to pin them write a list: [mlpt-alpha==1.0]" in err


@pytest.mark.usefixtures("no_pip_config")
def test_pip_conf_file_is_honoured(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = project(tmp_path / "p", "python_env.yaml", "dependencies: [mlpt-gamma]\n")
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {wheelhouse}\n[install]\nno-index = true\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    plan = virtualenv.MANAGER.plan(proj, OPTIONS)
    assert plan["index"]["env"]["UV_FIND_LINKS"] == str(wheelhouse)
    assert plan["index"]["args"] == ["--no-index"]
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    assert "mlpt-gamma==0.1" in env.artifacts[0][0].read_text()


@pytest.mark.usefixtures("no_pip_config")
def test_without_pip_config_the_local_package_is_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the package only comes from the configured wheelhouse."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    proj = project(tmp_path / "p", "python_env.yaml", "dependencies: [mlpt-gamma]\n")
    with pytest.raises(EnvError) as info:
        virtualenv.MANAGER.prepare(proj, OPTIONS)
    text = info.value.one_line()
    assert "mlpt-gamma" in text and "full log:" in text
    assert str(build_logs_dir()) in text
    assert cache.list_envs() == []


# A process that prepares the env of the project in argv[1] and prints what it got.
PREPARE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from mlproj.envs import cache
    from mlproj.envs.virtualenv import manager as virtualenv
    from mlproj.envs.base import EnvOptions
    from mlproj.spec.model import EnvDecl, Project

    directory = Path(sys.argv[1])
    proj = Project(directory, None, EnvDecl("python", directory / "python_env.yaml"))
    env = virtualenv.MANAGER.prepare(proj, EnvOptions(manager="virtualenv"))
    path = cache.env_path(env.facts.tags()["mlproj.env.key"])
    marker = json.loads((path / cache.MARKER).read_text())
    print(json.dumps({"path": str(path), "created": marker["created"]}))
    """
)


@pytest.mark.usefixtures("offline")
def test_four_processes_one_build(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PREPARE, str(proj.directory)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, results
    got = [json.loads(out) for out, _ in results]
    assert len({(g["path"], g["created"]) for g in got}) == 1  # all reuse the same build
    builders = [err for _, err in results if "creating virtualenv" in err]
    assert len(builders) == 1, [err for _, err in results]
    assert [e.key for e in cache.list_envs()] == [Path(got[0]["path"]).name]


@pytest.mark.usefixtures("offline")
def test_killed_build_is_rebuilt_cleanly(tmp_path: Path) -> None:
    directory = tmp_path / "slow"
    building = tmp_path / "building"
    make_source(directory, "mlpt-slow", sleep=2.0, signal_file=building)
    proj = project(directory, "python_env.yaml", "dependencies: [./mlpt-slow-1.0, mlpt-gamma]\n")
    victim = subprocess.Popen(
        [sys.executable, "-c", PREPARE, str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    wait_until(building.exists, 60, what="the slow package's build started", process=victim)
    os.killpg(victim.pid, signal.SIGKILL)  # the builder and its uv, mid-install
    victim.communicate(timeout=30)
    key = virtualenv.resolve(proj).key
    assert not cache.is_ready(key) and cache.list_envs() == []
    assert [p for p in cache.envs_root().iterdir() if p.name.startswith(".tmp-")]  # the debris

    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    frozen = env.artifacts[0][0].read_text()
    assert "mlpt-gamma==0.1" in frozen and "mlpt-slow" in frozen
    assert [p.name for p in cache.envs_root().iterdir() if p.is_dir()] == [key]


def test_real_package_index(tmp_path: Path) -> None:
    """With this machine's own pip configuration (a mirror, or PyPI), a real package installs."""
    proj = project(tmp_path / "p", "python_env.yaml", "dependencies: [six]\n")
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    assert any(line.startswith("six==") for line in env.artifacts[0][0].read_text().splitlines())


@pytest.mark.usefixtures("offline")
def test_same_project_elsewhere_shares_the_env(tmp_path: Path) -> None:
    """Each git run gets its own checkout; the env key must not depend on where it lies."""
    first = project(
        tmp_path / "a",
        "python_env.yaml",
        PYTHON_ENV,
        files={"requirements.txt": "x\n", "constraints.txt": ""},
    )
    second = project(
        tmp_path / "b",
        "python_env.yaml",
        PYTHON_ENV,
        files={"requirements.txt": "x\n", "constraints.txt": ""},
    )
    assert virtualenv.resolve(first).key == virtualenv.resolve(second).key
