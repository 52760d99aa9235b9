"""Solve and install conda.yml with rattler from a local channel, then run what it installed."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from mlproj.envs import cache
from mlproj.envs.conda.manager import MANAGER, read_inputs
from mlproj.errors import EnvError
from tests.envs.conda import channel as chan
from tests.envs.conda.conftest import launch, options, write_conda_project
from tests.helpers import needs_uv


def test_solves_highest_version_and_runs_a_binary_from_the_env(
    channel: Path, tmp_path: Path
) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    prepared = MANAGER.prepare(project, options())

    code, out, _ = launch(prepared, "mlp-app && echo CONDA_PREFIX=$CONDA_PREFIX", project.directory)
    prefix = cache.env_path(prepared.facts.tags()["mlproj.env.key"])
    assert code == 0
    assert "lib version=2.0" in out  # the app's dependency, highest version
    # the placeholder was replaced by the final prefix: the env was built where it lives
    assert f"app prefix={prefix}\n" in out
    assert f"CONDA_PREFIX={prefix}\n" in out


def test_a_pin_picks_the_lower_version(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    code, out, _ = launch(MANAGER.prepare(project, options()), "mlp-app", project.directory)
    assert code == 0
    assert "lib version=1.0" in out


def test_records_the_installed_packages_with_hashes(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    prepared = MANAGER.prepare(project, options())

    tags = prepared.facts.tags()
    assert tags["mlflow.project.env"] == "conda"
    assert tags["mlproj.env.manager"] == "conda"
    assert tags["mlproj.env.lockfile"] == "absent"
    # what was solved and installed, both as conda's explicit list and as a conda-lock.yml
    # that `mlproj reproduce` installs without solving
    saved = {path.name: path for path, where in prepared.artifacts if where == "environment"}
    assert sorted(saved) == ["conda-explicit.txt", "conda-lock.yml"]
    explicit, lock = saved["conda-explicit.txt"], saved["conda-lock.yml"]
    text = explicit.read_text()
    assert "@EXPLICIT" in text
    app_file = channel / "noarch" / chan.app().filename
    digest = hashlib.sha256(app_file.read_bytes()).hexdigest()
    assert f"{app_file.as_uri()}#{digest}" in text
    assert "mlp-lib-2.0-0.tar.bz2#" in text and "mlp-lib-1.0" not in text
    assert "name: mlp-lib" in lock.read_text() and "md5:" in lock.read_text()
    assert tags["mlproj.env.lock_sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()


def test_a_cached_env_is_reused_without_touching_the_channel(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    first = MANAGER.prepare(project, options())
    assert MANAGER.plan(project, options())["cached"] is True
    chan.remove_repodata(channel)  # a new solve would now fail

    second = MANAGER.prepare(project, options())
    assert second.facts.tags()["mlproj.env.key"] == first.facts.tags()["mlproj.env.key"]
    assert launch(second, "mlp-app", project.directory)[0] == 0


def test_the_key_follows_conda_yml_and_channels(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    key = read_inputs(project, options()).key
    assert read_inputs(project, options()).key == key
    write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib=1.0"])
    assert read_inputs(project, options()).key != key
    write_conda_project(tmp_path / "proj", [channel.as_uri(), "conda-forge"], ["mlp-app"])
    assert read_inputs(project, options()).key != key


def test_plan_says_what_would_be_used(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app"])
    plan = MANAGER.plan(project, options())
    assert plan["manager"] == "conda"
    assert plan["installer"].startswith("rattler ")
    assert plan["cached"] is False
    assert plan["conda_file"] == str(project.env.file)
    assert plan["lockfile"]["state"] == "absent"
    assert plan["channels"] == [channel.as_uri() + "/"]
    assert plan["path"] == str(cache.env_path(plan["key"]))
    assert not Path(plan["path"]).exists()  # planning builds nothing


def test_an_unsatisfiable_spec_names_the_package(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(tmp_path / "proj", [channel.as_uri()], ["mlp-app", "mlp-lib>=3"])
    with pytest.raises(EnvError) as info:
        MANAGER.prepare(project, options())
    message = info.value.one_line()
    assert "cannot solve" in message and "mlp-lib" in message
    key = read_inputs(project, options()).key
    log = cache.log_path(key)
    assert str(log) in message
    assert "mlp-lib" in log.read_text()
    assert not cache.env_path(key).exists()  # nothing that looks like an env is left


def test_an_unknown_channel_is_a_clear_error(tmp_path: Path) -> None:
    missing = (tmp_path / "no-such-channel").as_uri()
    project = write_conda_project(tmp_path / "proj", [missing], ["mlp-app"])
    with pytest.raises(EnvError, match="cannot read a conda channel"):
        MANAGER.prepare(project, options())


def test_channel_names_go_under_the_channel_alias(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPROJ_CHANNEL_ALIAS", channel.parent.as_uri())
    project = write_conda_project(tmp_path / "proj", [channel.name], ["mlp-app"])
    assert MANAGER.plan(project, options())["channels"] == [channel.as_uri() + "/"]
    assert launch(MANAGER.prepare(project, options()), "mlp-app", project.directory)[0] == 0


def test_relative_channel_paths_are_taken_from_the_conda_file(
    channel: Path, tmp_path: Path
) -> None:
    project = write_conda_project(tmp_path / "proj", ["../channel"], ["mlp-app"])
    assert MANAGER.plan(project, options())["channels"] == [channel.as_uri() + "/"]


@needs_uv
def test_pip_section_installs_into_the_conda_python(channel: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    chan.write_wheel(wheels, "mlp-greet", "0.1")
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python", "mlp-app"],
        pip=["--no-index", f"--find-links {wheels}", "mlp-greet"],
    )
    prepared = MANAGER.prepare(project, options())
    prefix = cache.env_path(prepared.facts.tags()["mlproj.env.key"])

    code, out, err = launch(
        prepared, "mlp-greet && python -c 'import sys; print(sys.prefix)'", project.directory
    )
    assert code == 0, err
    assert out.splitlines() == ["pip-package 0.1", str(prefix)]
    freeze = dict((p.name, p) for p, _ in prepared.artifacts)["pip-freeze.txt"]
    assert "mlp-greet==0.1" in freeze.read_text()
    assert importlib.util.find_spec("mlp_greet") is None  # our own interpreter is untouched


@needs_uv
def test_pip_section_follows_the_users_pip_configuration(
    channel: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wheels = tmp_path / "wheels"
    chan.write_wheel(wheels, "mlp-greet", "0.3")
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text(f"[global]\nno-index = true\nfind-links = {wheels}\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf))
    project = write_conda_project(
        tmp_path / "proj", [channel.as_uri()], ["python"], pip=["mlp-greet"]
    )
    prepared = MANAGER.prepare(project, options())
    assert launch(prepared, "mlp-greet", project.directory)[1] == "pip-package 0.3\n"

    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "elsewhere"))
    assert read_inputs(project, options()).key != prepared.facts.tags()["mlproj.env.key"]


@needs_uv
def test_pip_failure_is_a_clear_error(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["python"],
        pip=["--no-index", "no-such-package-here"],
    )
    with pytest.raises(EnvError, match=r"pip install failed.*no-such-package-here"):
        MANAGER.prepare(project, options())


def test_pip_section_without_python_is_refused(channel: Path, tmp_path: Path) -> None:
    project = write_conda_project(
        tmp_path / "proj", [channel.as_uri()], ["mlp-app"], pip=["anything"]
    )
    with pytest.raises(EnvError, match="needs python"):
        MANAGER.prepare(project, options())


def test_activation_variables_are_set_as_data(
    channel: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_conda_project(
        tmp_path / "proj",
        [channel.as_uri()],
        ["mlp-data", "mlp-hook"],
        extra="variables:\n  MY_SETTING: fast\n",
    )
    prepared = MANAGER.prepare(project, options())
    prefix = cache.env_path(prepared.facts.tags()["mlproj.env.key"])
    assert "activation scripts that mlproj does not run (mlp-hook.sh)" in capsys.readouterr().err

    code, out, _ = launch(
        prepared,
        'echo "$MLP_DATA|$MY_SETTING|${HOOK:-unset}"; cat "$MLP_DATA/table.txt"',
        project.directory,
    )
    assert code == 0
    assert out == f"{prefix}/share/mlp-data|fast|unset\n42\n"
