"""A cold virtualenv build: its lock resolved while the venv is created, then installed as is.

With the real uv and a local wheelhouse. A failure of either concurrent step (`uv venv`, `uv pip
compile`) must be reported once, after both ended, and leave nothing in the cache: no env, no
build directory, the key's lock free for the next build.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from pathlib import Path

import pytest

from mlproj._util.both import run_both
from mlproj._util.filelock import try_locked
from mlproj.envs import cache
from mlproj.envs.base import EnvOptions
from mlproj.envs.virtualenv import manager as virtualenv
from mlproj.envs.virtualenv.lock import frozen_pins
from mlproj.errors import EnvError
from tests.envs.conftest import project, run_in
from tests.helpers import needs_uv, run_cli

OPTIONS = EnvOptions(manager="virtualenv")

# -- the two steps at once -----------------------------------------------------------------


def test_both_steps_run_at_the_same_time_and_both_values_come_back() -> None:
    started = threading.Event()

    def first() -> str:
        started.set()
        time.sleep(0.2)
        return "venv"

    def second() -> str:
        assert started.wait(5)  # first is running while second runs
        return "lock"

    assert run_both(first, second) == ("venv", "lock")


def test_a_failed_step_is_raised_only_after_the_other_ended() -> None:
    ended = []

    def slow() -> None:
        time.sleep(0.2)
        ended.append("slow")

    def failing() -> None:
        raise EnvError("resolving failed")

    with pytest.raises(EnvError, match="resolving failed"):
        run_both(slow, failing)
    assert ended == ["slow"]

    def failing_first() -> None:
        raise EnvError("venv failed")

    with pytest.raises(EnvError, match="venv failed"):
        run_both(failing_first, lambda: slow())
    assert ended == ["slow", "slow"]


def test_when_both_fail_the_first_steps_error_is_the_one_raised() -> None:
    def venv() -> None:
        raise EnvError("venv failed")

    def lock() -> None:
        raise EnvError("resolving failed")

    with pytest.raises(EnvError, match="venv failed") as info:
        run_both(venv, lock)
    assert info.value.__cause__ is None and info.value.__suppress_context__

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # Ctrl-C is never hidden behind a step's error
        run_both(venv, interrupted)


# -- the freeze read off the lock ----------------------------------------------------------


def test_plain_pins_are_the_freeze_sorted_by_name_without_hashes() -> None:
    lock = (
        "foo-bar==2.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n"
        "foo==1.0+cpu \\\n    --hash=sha256:cc\n# a comment\n\nabc==0.1\n"
    )
    assert frozen_pins(lock) == "abc==0.1\nfoo==1.0+cpu\nfoo-bar==2.0\n"  # as uv sorts names
    assert frozen_pins("") == ""


@pytest.mark.parametrize(
    "line",
    [
        "./mlpt-local-1.0",
        "-e ./pkg",
        "pkg @ file:///tmp/pkg",
        'pkg==1.0 ; python_version < "3.12"',
        "--find-links /wheels",
        "PyYAML==6.0",  # not written as uv writes names: uv's freeze would say pyyaml
        "pkg>=1.0",
    ],
)
def test_anything_but_plain_pins_leaves_the_freeze_to_uv(line: str) -> None:
    assert frozen_pins(f"six==1.17.0\n{line}\n") is None


# -- real builds ---------------------------------------------------------------------------


def _leftovers() -> list[str]:
    root = cache.envs_root()
    return sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _lock_is_free(key: str) -> bool:
    with try_locked(cache.envs_root() / f"{key}.lock") as got:
        return got


@needs_uv
@pytest.mark.usefixtures("offline")
def test_an_unresolvable_requirement_is_one_error_and_leaves_nothing(tmp_path: Path) -> None:
    proj = project(tmp_path / "p", "python_env.yaml", "dependencies: [mlpt-gamma, mlpt-nowhere]\n")
    (proj.directory / "MLproject").write_text(
        'python_env: python_env.yaml\nentry_points:\n  main:\n    command: "true"\n'
    )
    done = run_cli(["env", "create", str(proj.directory)])
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("mlproj: error:")]
    assert len(errors) == 1, done.stderr
    assert "resolving the requirements of" in errors[0] and "mlpt-nowhere" in errors[0]
    assert "Traceback" not in done.stderr

    key = virtualenv.resolve(proj).key
    assert _leftovers() == [] and cache.list_envs() == []
    assert _lock_is_free(key)
    log = cache.log_path(key).read_text()
    assert "] exit 0 after " in log and log.count(": uv venv\n") == 1  # it ran to its end
    assert log.rstrip().endswith("== failed")


def _failing_venv_uv(tmp_path: Path) -> str:
    """uv itself, except that `uv venv` fails (a full disk, a broken interpreter...)."""
    wrapper = tmp_path / "tools" / "uv"
    wrapper.parent.mkdir()
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = venv ]; then echo "error: cannot create the venv here" >&2; exit 2; fi\n'
        f'exec {virtualenv.uv_binary()} "$@"\n'
    )
    wrapper.chmod(0o755)
    return str(wrapper)


@needs_uv
@pytest.mark.usefixtures("offline")
def test_a_failed_venv_is_reported_once_after_the_lock_resolved(tmp_path: Path) -> None:
    proj = project(tmp_path / "p", "python_env.yaml", "dependencies: [mlpt-gamma]\n")
    plan = dataclasses.replace(virtualenv.resolve(proj), uv=_failing_venv_uv(tmp_path))
    with pytest.raises(EnvError) as info:
        virtualenv.build_or_reuse(plan)
    assert "uv venv failed (exit 2): error: cannot create the venv here" in info.value.one_line()
    assert _leftovers() == [] and not cache.is_ready(plan.key) and _lock_is_free(plan.key)
    log = cache.log_path(plan.key).read_text()
    assert "exit 0 after" in log and log.count(": uv pip compile\n") == 1  # waited for

    # both failing: the venv's error, as when the steps run one after the other
    bad = project(tmp_path / "q", "python_env.yaml", "dependencies: [mlpt-nowhere]\n")
    plan = dataclasses.replace(virtualenv.resolve(bad), uv=_failing_venv_uv(tmp_path / "q"))
    with pytest.raises(EnvError, match="uv venv failed"):
        virtualenv.build_or_reuse(plan)
    assert _leftovers() == [] and _lock_is_free(plan.key)

    virtualenv.MANAGER.prepare(proj, OPTIONS)  # the real uv then builds it
    assert [env.key for env in cache.list_envs()] == [virtualenv.resolve(proj).key]


@needs_uv
@pytest.mark.usefixtures("no_pip_config")
def test_the_index_options_of_the_requirements_also_install_the_lock(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock has no index options: the install gets the requirement lines' own (here the
    only place the packages can come from)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    text = f"dependencies:\n  - --find-links {wheelhouse}\n  - mlpt-gamma\n"
    proj = project(tmp_path / "p", "python_env.yaml", text)
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    path = cache.env_path(env.facts.tags()["mlproj.env.key"])
    assert (path / ".mlproj" / "sources.txt").read_text() == f"--find-links {wheelhouse}\n"
    done = run_in(env.patch, "python -c 'import mlpt_gamma; print(mlpt_gamma.VERSION)'", tmp_path)
    assert done.stdout.strip() == "0.1", done.stderr


@needs_uv
@pytest.mark.usefixtures("offline")
def test_build_dependencies_are_resolved_with_the_dependencies(tmp_path: Path) -> None:
    """One lock for both lists: a pin in build_dependencies holds for the dependencies too
    (mlflow run installs the lists one after the other, the second free to replace the
    first's packages); a contradiction is an error naming the package, not a silent upgrade."""
    text = "build_dependencies: [mlpt-alpha==1.0]\ndependencies: [mlpt-beta]\n"
    proj = project(tmp_path / "p", "python_env.yaml", text)
    env = virtualenv.MANAGER.prepare(proj, OPTIONS)
    frozen = env.artifacts[0][0].read_text().splitlines()
    assert frozen == ["mlpt-alpha==1.0", "mlpt-beta==1.0"]  # beta alone would take alpha 2.0

    text = "build_dependencies: [mlpt-alpha==1.0]\ndependencies: [mlpt-alpha>=2]\n"
    clash = project(tmp_path / "q", "python_env.yaml", text)
    with pytest.raises(EnvError) as info:
        virtualenv.MANAGER.prepare(clash, OPTIONS)
    message = info.value.one_line()
    assert "resolving the requirements of" in message and "mlpt-alpha" in message
    assert _leftovers() == [virtualenv.resolve(proj).key]
