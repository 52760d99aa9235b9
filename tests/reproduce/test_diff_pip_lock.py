"""`runs diff` of two conda runs whose conda packages are the same but whose pip: section pins
(environment/pip-requirements.lock.txt) are not: the drift a user looks for after a reproduction;
and of virtualenv runs whose hashed locks (environment/requirements.lock.txt) say that another
file was installed under the same version.

The runs are recorded through the store as a conda or virtualenv run records them
(conda-explicit.txt, the pip lock in the format the conda manager writes; the freeze and the
hashed lock as uv writes them), so no environment build is needed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlproj.envs.conda.pip import PIP_LOCK_HEADER
from mlproj.tracking import open_store
from mlproj.tracking.base import Store
from tests.conftest import run_cli
from tests.tracking.conftest import mlflow_server

CHANNEL = "file:///channel/noarch"
CONDA_EXPLICIT = (
    "# platform: linux-64\n@EXPLICIT\n"
    f"{CHANNEL}/python-3.11.9-0.tar.bz2#{'1' * 64}\n"
    f"{CHANNEL}/mlp-lib-2.0-0.tar.bz2#{'2' * 64}\n"
)
SHA = {name: name[0] * 64 for name in ("a", "b", "c", "d", "e", "f")}


def _pip_lock(*lines: str) -> str:
    return PIP_LOCK_HEADER + "".join(line + "\n" for line in lines)


A_PINS = _pip_lock(
    f"requests==2.31.0 --hash=sha256:{SHA['a']}",
    f"urllib3==2.2.1 --hash=sha256:{SHA['b']}",
    f"certifi==2024.2.2 --hash=sha256:{SHA['c']}",
)
B_PINS = _pip_lock(
    f"requests==2.32.3 --hash=sha256:{SHA['d']}",
    f"urllib3==2.2.1 --hash=sha256:{SHA['e']}",  # same version, another file
    f"idna==3.7 --hash=sha256:{SHA['f']}",
)


def _conda_run(store: Store, files: dict[str, str]) -> str:
    """A finished conda run whose environment/ artifacts are `files`."""
    tags = {"mlproj.env.manager": "conda", "mlproj.platform": "linux-x86_64"}
    info = store.create_run("0", user_id="colleague", start_time=1, tags=tags, run_name=None)
    store.log_params(info.run_id, {"lr": "0.1"})
    for name, text in files.items():
        store.write_artifact(info.run_id, f"environment/{name}", text.encode())
    store.set_terminated(info.run_id, "FINISHED", 2)
    return info.run_id


def _diff(a: str, b: str, *more: str) -> str:
    done = run_cli(["runs", "diff", a, b, *more])
    assert done.returncode == 0, done.stderr
    return done.stdout


def _environment(text: str) -> list[str]:
    """The lines of the environment section."""
    lines = text.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("environment"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return lines[start:end]


def test_pip_pins_that_differ_are_named_with_both_versions(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    a = _conda_run(
        store, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": A_PINS}
    )
    b = _conda_run(
        store, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": B_PINS}
    )
    both = "environment/conda-explicit.txt + environment/pip-requirements.lock.txt"
    assert _environment(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}")) == [
        f"environment (from {both} / {both}):",
        "  pip:requests: 2.31.0 -> 2.32.3",
        "  + pip:idna: 3.7",
        "  - pip:certifi: 2024.2.2",
        "  ! pip:urllib3: 2.2.1, same version but another file"
        f" (sha256:{'b' * 12} -> sha256:{'e' * 12})",
    ]  # the conda packages are the same, so none of them is named

    env = json.loads(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}", "--json"))["environment"]
    assert env["locks"] == ["environment/conda-explicit.txt"] * 2
    assert env["pip_locks"] == ["environment/pip-requirements.lock.txt"] * 2
    assert env["changed"] == {"pip:requests": ["2.31.0", "2.32.3"]}
    assert env["added"] == {"pip:idna": "3.7"}
    assert env["removed"] == {"pip:certifi": "2024.2.2"}
    assert env["hash_changed"] == {
        "pip:urllib3": {
            "version": "2.2.1",
            "hashes": [[f"sha256:{SHA['b']}"], [f"sha256:{SHA['e']}"]],
        }
    }


def test_identical_pip_pins_show_no_environment_difference(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    files = {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": A_PINS}
    a, b = _conda_run(store, files), _conda_run(store, files)
    uri = store.uri
    lines = _environment(_diff(f"{uri}#{a}", f"{uri}#{b}"))
    assert lines[1:] == ["  (same)"]
    env = json.loads(_diff(f"{uri}#{a}", f"{uri}#{b}", "--json"))["environment"]
    assert (env["changed"], env["added"], env["removed"], env["hash_changed"]) == ({}, {}, {}, {})


def test_a_pip_lock_recorded_by_one_run_only_is_said_and_its_pins_listed(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    a = _conda_run(
        store, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": A_PINS}
    )
    b = _conda_run(store, {"conda-explicit.txt": CONDA_EXPLICIT})
    uri = store.uri
    lines = _environment(_diff(f"{uri}#{a}", f"{uri}#{b}"))
    assert lines[0] == (
        "environment (from environment/conda-explicit.txt + environment/pip-requirements.lock.txt"
        " / environment/conda-explicit.txt):"
    )
    assert lines[1] == (
        "  pip: section pinned only in A (B recorded no environment/pip-requirements.lock.txt)"
    )
    assert "  - pip:requests: 2.31.0" in lines

    swapped = _environment(_diff(f"{uri}#{b}", f"{uri}#{a}"))
    assert swapped[1] == (
        "  pip: section pinned only in B (A recorded no environment/pip-requirements.lock.txt)"
    )
    assert "  + pip:requests: 2.31.0" in swapped
    env = json.loads(_diff(f"{uri}#{b}", f"{uri}#{a}", "--json"))["environment"]
    assert env["pip_locks"] == [None, "environment/pip-requirements.lock.txt"]
    assert env["added"]["pip:requests"] == "2.31.0"


def test_a_conda_package_rebuilt_under_the_same_version_is_flagged(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    rebuilt = CONDA_EXPLICIT.replace(
        f"mlp-lib-2.0-0.tar.bz2#{'2' * 64}", f"mlp-lib-2.0-1.tar.bz2#{'3' * 64}"
    )
    a = _conda_run(store, {"conda-explicit.txt": CONDA_EXPLICIT})
    b = _conda_run(store, {"conda-explicit.txt": rebuilt})
    lines = _environment(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}"))
    assert lines[1:] == [
        f"  ! mlp-lib: 2.0, same version but another file (sha256:{'2' * 12} -> sha256:{'3' * 12})"
    ]


CONDA_LOCK = f"""\
version: 1
metadata: {{platforms: [linux-64]}}
package:
- {{name: python, version: 3.11.9, manager: conda, platform: linux-64,
   url: "{CHANNEL}/python-3.11.9-0.tar.bz2", hash: {{md5: {"9" * 32}, sha256: {"1" * 64}}}}}
- {{name: mlp-lib, version: "2.0", manager: conda, platform: linux-64,
   url: "{CHANNEL}/mlp-lib-2.0-0.tar.bz2", hash: {{md5: {"8" * 32}, sha256: {"2" * 64}}}}}
- {{name: requests, version: 2.31.0, manager: pip, platform: linux-64,
   url: "file:///wheels/requests-2.31.0-py3-none-any.whl", hash: {{sha256: {SHA["a"]}}}}}
"""


def test_pip_pins_of_a_conda_lock_are_compared_with_a_recorded_pip_lock(tmp_path: Path) -> None:
    """A run installed from a conda-lock.yml (its pip: packages inside it) against one whose
    pip: section was solved and recorded apart: the same package names on both sides."""
    store = open_store(str(tmp_path / "mlruns"))
    a = _conda_run(store, {"conda-lock.yml": CONDA_LOCK, "conda-explicit.txt": CONDA_EXPLICIT})
    b = _conda_run(
        store, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": B_PINS}
    )
    env = json.loads(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}", "--json"))["environment"]
    assert env["locks"] == ["environment/conda-lock.yml", "environment/conda-explicit.txt"]
    assert env["pip_locks"] == [None, "environment/pip-requirements.lock.txt"]
    assert env["changed"] == {"pip:requests": ["2.31.0", "2.32.3"]}
    assert env["added"] == {"pip:idna": "3.7", "pip:urllib3": "2.2.1"}
    assert env["removed"] == {} and env["hash_changed"] == {}  # md5 is only in the lock


# a virtualenv run records what `uv pip freeze` says and the same pins with their hashes, as
# `uv pip compile --generate-hashes` writes them (the hash on a continuation line)
FROZEN = "mlpt-alpha==1.0\nmlpt-local @ file:///home/colleague/src/mlpt-local\nurllib3==2.2.1\n"


def _venv_lock(urllib3: str) -> str:
    return (
        f"mlpt-alpha==1.0 \\\n    --hash=sha256:{SHA['a']}\n"
        "./src/mlpt-local\n"  # a local path requirement: the lock names it by its path
        f"urllib3==2.2.1 \\\n    --hash=sha256:{urllib3}\n"
    )


def _venv_run(store: Store, files: dict[str, str]) -> str:
    tags = {"mlproj.env.manager": "virtualenv", "mlproj.platform": "linux-x86_64"}
    info = store.create_run("0", user_id="colleague", start_time=1, tags=tags, run_name=None)
    for name, text in files.items():
        store.write_artifact(info.run_id, f"environment/{name}", text.encode())
    store.set_terminated(info.run_id, "FINISHED", 2)
    return info.run_id


VENV_BOTH = "environment/requirements.frozen.txt (hashes: environment/requirements.lock.txt)"


def test_a_virtualenv_package_with_another_file_under_its_version_is_flagged(
    tmp_path: Path,
) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    a = _venv_run(
        store, {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": _venv_lock(SHA["b"])}
    )
    b = _venv_run(
        store, {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": _venv_lock(SHA["e"])}
    )
    assert _environment(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}")) == [
        f"environment (from {VENV_BOTH} / {VENV_BOTH}):",
        "  ! urllib3: 2.2.1, same version but another file"
        f" (sha256:{'b' * 12} -> sha256:{'e' * 12})",
    ]
    env = json.loads(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}", "--json"))["environment"]
    assert env["locks"] == ["environment/requirements.frozen.txt"] * 2
    assert env["hash_locks"] == ["environment/requirements.lock.txt"] * 2
    assert (env["changed"], env["added"], env["removed"]) == ({}, {}, {})
    assert env["hash_changed"] == {
        "urllib3": {"version": "2.2.1", "hashes": [[f"sha256:{SHA['b']}"], [f"sha256:{SHA['e']}"]]}
    }


def test_identical_virtualenv_locks_show_no_environment_difference(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "mlruns"))
    files = {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": _venv_lock(SHA["b"])}
    a, b = _venv_run(store, files), _venv_run(store, files)
    lines = _environment(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}"))
    assert lines == [f"environment (from {VENV_BOTH} / {VENV_BOTH}):", "  (same)"]
    env = json.loads(_diff(f"{store.uri}#{a}", f"{store.uri}#{b}", "--json"))["environment"]
    assert (env["changed"], env["added"], env["removed"], env["hash_changed"]) == ({}, {}, {}, {})


def test_an_older_virtualenv_run_without_hashes_is_compared_by_version_only(
    tmp_path: Path,
) -> None:
    """A run from before the hashed lock (or a reproduction of one, which has no hashes to
    record) against one that has it: the versions of both freezes compared, no hash alarm, and the
    text says which run's files could not be checked."""
    store = open_store(str(tmp_path / "mlruns"))
    old = _venv_run(store, {"requirements.frozen.txt": FROZEN.replace("1.0", "0.9")})
    new = _venv_run(
        store, {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": _venv_lock(SHA["e"])}
    )
    assert _environment(_diff(f"{store.uri}#{old}", f"{store.uri}#{new}")) == [
        f"environment (from environment/requirements.frozen.txt / {VENV_BOTH}):",
        "  hashes recorded only in B (A recorded no environment/requirements.lock.txt):"
        " a file changed under the same version would not show",
        "  mlpt-alpha: 0.9 -> 1.0",  # the local path requirement is not taken for a change
    ]
    env = json.loads(_diff(f"{store.uri}#{new}", f"{store.uri}#{old}", "--json"))["environment"]
    assert env["hash_locks"] == ["environment/requirements.lock.txt", None]
    assert env["changed"] == {"mlpt-alpha": ["1.0", "0.9"]}
    assert (env["added"], env["removed"], env["hash_changed"]) == ({}, {}, {})


def test_a_package_hashed_on_one_side_only_is_not_taken_for_another_file(
    tmp_path: Path,
) -> None:
    """Both runs recorded a hashed lock, but one gives no hash for urllib3 (the index gave
    none): what its file was is unknown, which is not a difference."""
    store = open_store(str(tmp_path / "mlruns"))
    unhashed = _venv_lock(SHA["b"]).replace(f" \\\n    --hash=sha256:{SHA['b']}", "")
    assert "urllib3==2.2.1\n" in unhashed
    a = _venv_run(
        store, {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": _venv_lock(SHA["e"])}
    )
    b = _venv_run(store, {"requirements.frozen.txt": FROZEN, "requirements.lock.txt": unhashed})
    for x, y in ((a, b), (b, a)):
        lines = _environment(_diff(f"{store.uri}#{x}", f"{store.uri}#{y}"))
        assert lines == [f"environment (from {VENV_BOTH} / {VENV_BOTH}):", "  (same)"]
        env = json.loads(_diff(f"{store.uri}#{x}", f"{store.uri}#{y}", "--json"))["environment"]
        assert env["hash_changed"] == {}


def test_hashes_on_continuation_lines_are_read() -> None:
    from mlproj.commands.runs.lockpkgs import Pin, parse_requirements

    text = f"requests==2.31.0 \\\n    --hash=sha256:{SHA['a']} \\\n    --hash=sha256:{SHA['b']}\n"
    assert parse_requirements(text) == {
        "requests": Pin("2.31.0", frozenset({f"sha256:{SHA['a']}", f"sha256:{SHA['b']}"}))
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("diff-pip-server")
    with mlflow_server(f"sqlite:///{workdir / 'mlflow.db'}", workdir) as url:
        yield url


@pytest.mark.slow  # starts an mlflow server
def test_pip_pins_are_compared_across_a_file_store_and_a_tracking_server(
    tmp_path: Path, server: str
) -> None:
    local = open_store(str(tmp_path / "mlruns"))
    remote = open_store(server)
    a = _conda_run(
        local, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": A_PINS}
    )
    b = _conda_run(
        remote, {"conda-explicit.txt": CONDA_EXPLICIT, "pip-requirements.lock.txt": B_PINS}
    )
    c = _conda_run(remote, {"conda-explicit.txt": CONDA_EXPLICIT})  # recorded no pip lock
    lines = _environment(_diff(f"{local.uri}#{a}", f"{server}#{b}"))
    assert "  pip:requests: 2.31.0 -> 2.32.3" in lines
    assert any(x.startswith("  ! pip:urllib3: 2.2.1, same version") for x in lines)
    missing = _environment(_diff(f"{local.uri}#{a}", f"{server}#{c}"))
    assert missing[1] == (
        "  pip: section pinned only in A (B recorded no environment/pip-requirements.lock.txt)"
    )
