"""Python interpreters found where people keep them, installed when missing (issue 11.2).

Real interpreters only: the pyenv versions this machine has (~/.pyenv/versions; a fresh CI
machine may have none, and Debian bookworm packages one CPython minor, 3.11, so those tests say
why they skip), and pyenv / asdf / uv layouts built in tmp dirs from the interpreter running
the tests. No download ever leaves the machine: installs go to a file:// mirror that is empty.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import pytest

from mlproj.envs.virtualenv import discover, pythons
from mlproj.envs.virtualenv.discover import Interpreter
from tests.conftest import run_cli
from tests.spec.corpus import PROJECTS

HERE = platform.python_version()
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"


def _machine_has(prefix: str) -> str | None:
    """The newest pyenv version of this machine starting with `prefix` (x.y or x.y.z)."""
    try:
        names = [n for n in os.listdir(PYENV_VERSIONS) if n == prefix or n.startswith(prefix + ".")]
    except OSError:
        return None
    runnable = [n for n in names if os.access(PYENV_VERSIONS / n / "bin" / "python3", os.X_OK)]
    return max(runnable, key=lambda v: tuple(int(x) for x in v.split(".")), default=None)


def _layout(root: Path, name: str) -> Path:
    """`root/name/bin/python3`, a link to the real interpreter running the tests."""
    bin_dir = root / name / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    return bin_dir / "python3"


def _no_pyenv_on_path() -> str:
    """PATH without pyenv (its `install` would download from the internet)."""
    keep = [p for p in os.environ["PATH"].split(os.pathsep) if ".pyenv" not in p]
    return os.pathsep.join(keep)


def test_scan_reads_pyenv_asdf_and_uv_layouts_in_that_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyenv = _layout(tmp_path / "pyenv" / "versions", HERE)
    _layout(tmp_path / "pyenv" / "versions", "miniconda3-latest")  # not a CPython version dir
    asdf = _layout(tmp_path / "asdf" / "installs" / "python", HERE)
    uv = _layout(tmp_path / "uv", f"cpython-{HERE}-linux-x86_64-gnu")
    _layout(tmp_path / "uv", f"cpython-{HERE}+freethreaded-linux-x86_64-gnu")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("ASDF_DATA_DIR", str(tmp_path / "asdf"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    monkeypatch.setenv("PATH", "")
    found = discover.scan()
    assert found == [Interpreter(HERE, str(p)) for p in (pyenv, asdf, uv)]
    # and each one really is the interpreter its directory names
    assert {discover.probe(i.path) for i in found} == {HERE}


def test_an_exact_patch_match_is_preferred_over_a_newer_patch() -> None:
    found = [Interpreter("3.10.14", "/a"), Interpreter("3.10.13", "/b"), Interpreter("3.9.1", "/c")]
    assert pythons._best(found, "3.10.13") == Interpreter("3.10.13", "/b")
    assert pythons._best(found, "3.10") == Interpreter("3.10.14", "/a")  # else the newest
    assert pythons._best(found, "3.11") is None


@pytest.mark.parametrize(
    ("project", "wanted"),
    [("python_env_py310", "3.10"), ("python_env_exact_patch", "3.9.18")],
)
def test_a_project_runs_on_the_python_it_asks_for(
    project: str, wanted: str, tmp_path: Path
) -> None:
    have = _machine_has(wanted)
    if have is None:
        pytest.skip(
            f"no pyenv Python {wanted} on this machine ({PYENV_VERSIONS}); Debian bookworm "
            "packages only 3.11, so the pyenv-layout tests above stand in for it"
        )
    result = run_cli(
        ["run", str(PROJECTS / project), "--tracking-uri", str(tmp_path / "mlruns")],
        env={"UV_PYTHON_DOWNLOADS": "never", "PATH": _no_pyenv_on_path()},
    )
    assert result.returncode == 0, result.stderr
    assert f"PYTHON {have} True" in result.stdout  # that very version, inside the venv


def test_downloads_off_the_error_lists_what_was_found_and_the_command(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").write_text(
        'python_env: python_env.yaml\nentry_points:\n  main:\n    command: "true"\n'
    )
    (project / "python_env.yaml").write_text('python: "3.12.3"\n')
    store = tmp_path / "mlruns"
    env = {"PATH": _no_pyenv_on_path()}
    for args, extra in (
        (["--no-python-downloads"], {}),
        ([], {"UV_PYTHON_DOWNLOADS": "never"}),
    ):
        result = run_cli(
            ["run", str(project), "--tracking-uri", str(store), *args], env={**env, **extra}
        )
        assert result.returncode == 1
        err = result.stderr
        assert "no Python matching '3.12.3' is installed (found: " in err
        assert HERE in err.split("found: ")[1]
        assert "downloads are off" in err and "uv python install 3.12.3" in err
        assert "Traceback" not in err
    # the dry run never fails for it: it says what would happen
    for extra, words in (
        ({"UV_PYTHON_DOWNLOADS": "never"}, "downloads are off; the run fails unless you run: "),
        ({}, "would be installed with: "),
    ):
        result = run_cli(["run", str(project), "--dry-run"], env={**env, **extra})
        assert result.returncode == 0, result.stderr
        line = next(x for x in result.stdout.splitlines() if "python_install" in x)
        assert words in line and line.endswith("uv python install 3.12.3")


def test_install_goes_through_uv_and_its_mirror(tmp_path: Path) -> None:
    """`uv python install` honours UV_PYTHON_INSTALL_MIRROR: an empty local mirror fails the
    install (no network), and the error names that mirror and the command to run."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").write_text(
        'python_env: python_env.yaml\nentry_points:\n  main:\n    command: "true"\n'
    )
    (project / "python_env.yaml").write_text('python: "3.12.3"\n')
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    result = run_cli(
        ["run", str(project), "--tracking-uri", str(tmp_path / "mlruns")],
        env={
            "PATH": _no_pyenv_on_path(),
            "UV_PYTHON_INSTALL_MIRROR": mirror.as_uri(),
            "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv-pythons"),
        },
        timeout=240,
    )
    assert result.returncode == 1
    err = result.stderr
    assert "installing Python 3.12.3:" in err  # it tried
    assert "installing it failed: `uv python` failed" in err
    assert str(mirror) in err
    assert "uv python install 3.12.3" in err


def test_an_exact_match_found_without_a_process_skips_probing_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PATH comes last in the discovery order, so an exact match before it is the answer, and
    the `python3.X` there are not run (one process each); a looser request still looks."""
    ran = tmp_path / "ran"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3.99"
    fake.write_text(f"#!/bin/sh\necho run >> {ran}\necho 3.99.0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for var, name in (("PYENV_ROOT", "pyenv"), ("ASDF_DATA_DIR", "asdf")):
        monkeypatch.setenv(var, str(tmp_path / name))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    pyenv = _layout(tmp_path / "pyenv" / "versions", "3.99.1")  # named 3.99.1, runs HERE

    assert pythons.locate(HERE, "uv") == pythons.current()
    assert pythons.locate("3.99.1", "uv") == Interpreter("3.99.1", str(pyenv))
    assert not ran.exists()
    # "3.99" is no exact version: the newest match wins, so PATH's are run to learn theirs
    assert pythons.locate("3.99", "uv") == Interpreter("3.99.1", str(pyenv))
    assert ran.read_text() == "run\n"
