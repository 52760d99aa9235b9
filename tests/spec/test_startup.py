"""`mlproj validate` / `describe` / `--help` stay light: no git, docker, rattler, requests or
mlflow in the process (they would cost hundreds of milliseconds at every start). A warm `run`
of a local project loads only its own path: no git or zip cache code, no validator, no backend
or spool code, no dataclass and no msgspec (its records are mlproj._util.record's: a frozen
dataclass costs about 1 ms to build on Python 3.11, two thirds of a warm run's start-up when they
were dataclasses, and importing msgspec cost a quarter of it),
and none of the standard modules that were made lazy for it (see benchmarks/run_overhead.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from tests.helpers import unmeasured_env
from tests.spec.corpus import PROJECTS

HEAVY = ("git", "docker", "rattler", "requests", "mlflow", "urllib3", "jsonschema", "conda_lock")
# Imported where they are needed, off the common path: secrets (OpenSSL through hmac), socket,
# traceback (crash logs only), the git/zip caches, validation and description, the backends
# other than this process, the spool of unrecorded ends, run references, dataclasses, the
# store's lock (new experiments only) and run ordering (listings), OpenSSL (hashlib: a
# directory's content is hashed with CPython's own SHA-256), shutil and tempfile (discarding a
# directory, copying an artifact), string (templates are parsed by the function that
# string.Formatter calls), ctypes (prctl through CPython's _ctypes core) and random (names are
# drawn from os.urandom).
LAZY = (
    "ctypes",
    "dataclasses",
    "hashlib",
    "_hashlib",
    "msgspec",
    "random",
    "secrets",
    "shutil",
    "socket",
    "string",
    "tempfile",
    "traceback",
    "mlproj._util.filelock",
    "mlproj.backends.base",
    "mlproj.commands.runref",
    "mlproj.tracking.spool",
    "mlproj.tracking.stores.order",
    "mlproj.sources.git.checkout",
    "mlproj.sources.git.refs",
    "mlproj.sources.git.store",
    "mlproj.sources.zip.fetch",
    "mlproj.spec.describe",
    "mlproj.spec.envfiles",
    "mlproj.spec.validate",
)
# mlproj's exit skips the interpreter's teardown but runs exit handlers: the list is written by one
PROBE = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules))))
sys.argv = ["mlproj", *sys.argv[1:]]
runpy.run_module("mlproj", run_name="__main__")
"""


# The probe runs without site (-S), this checkout and the libraries on its path: as installed,
# not as an editable install, whose finder imports pathlib, fnmatch and more at every start.
LIBRARIES = {str(Path(click.__file__).parents[1]), str(Path(yaml.__file__).parents[1])}
SEARCH_PATH = os.pathsep.join([str(Path(__file__).resolve().parents[2]), *sorted(LIBRARIES)])


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-S", "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=dict(unmeasured_env(env), PYTHONPATH=SEARCH_PATH),
    )
    marker = result.stderr.rindex("MODULES ")
    return set(json.loads(result.stderr[marker + len("MODULES ") :]))


@pytest.mark.parametrize(
    "args",
    [
        ("validate", str(PROJECTS / "multistep")),
        ("validate", "--strict", "--json", str(PROJECTS / "docker_gpu")),
        ("describe", "--json", str(PROJECTS / "pytorch_lightning")),
        ("--help",),
    ],
)
def test_no_heavy_imports(args: tuple[str, ...]) -> None:
    modules = loaded_modules(*args)
    assert "mlproj" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []


def test_validate_actually_ran_in_the_probe() -> None:
    assert "mlproj.spec.validate" in loaded_modules("validate", str(PROJECTS / "multistep"))


def test_help_loads_no_traceback() -> None:
    assert "traceback" not in loaded_modules("--help")


def trivial_project(tmp_path: Path) -> Path:
    project = tmp_path / "trivial"
    project.mkdir()
    (project / "MLproject").write_text(
        'name: trivial\nentry_points:\n  main:\n    command: "echo hi"\n'
    )
    return project


def run_modules(tmp_path: Path, project: Path) -> set[str]:
    env = dict(os.environ, MLPROJ_HOME=str(tmp_path / "home"))
    env.pop("MLFLOW_TRACKING_URI", None)
    args = (
        "run",
        str(project),
        "--env-manager",
        "local",
        "--tracking-uri",
        str(tmp_path / "mlruns"),
    )
    loaded_modules(*args, env=env)  # the first run creates the store: a warm run is the next
    modules = loaded_modules(*args, env=env)
    assert "mlproj.run.runner" in modules  # the run did happen in the probe
    assert (tmp_path / "mlruns").is_dir()
    return modules


def test_a_local_run_loads_only_its_path(tmp_path: Path) -> None:
    modules = run_modules(tmp_path, trivial_project(tmp_path))
    assert sorted(m for m in modules if m in LAZY or m.split(".")[0] in HEAVY) == []
    assert "mlproj.sources.snapshot" in modules  # its content was hashed all the same


def test_a_git_project_run_does_not_load_openssl(tmp_path: Path) -> None:
    """The content hash (hashlib, which loads OpenSSL) is for directories without git; a git
    project is pinned by its commit."""
    project = trivial_project(tmp_path)
    git = ["git", "-C", str(project), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "trivial"], check=True)
    modules = run_modules(tmp_path, project)
    assert "hashlib" not in modules
    assert "mlproj.sources.snapshot" in modules  # the hashing code itself is on the path
