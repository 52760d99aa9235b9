"""`runs diff` of real virtualenv runs, each built on a fresh cache from a local wheel dir: the
same project run twice records the same hashed lock (no difference); run again after
mlpt-alpha 1.0 was rebuilt into another file under the same version, that package is flagged.
A reproduction records the hashed lock it installed (hash-checked) again, so that it is
compared by hash too; one from a lock without hashes records none."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from mlproj.commands.runs.lockpkgs import parse_requirements
from mlproj.tracking import open_store
from tests.conftest import run_cli
from tests.reproduce.conftest import run_id

LOCK = "environment/requirements.lock.txt"
BOTH = f"environment/requirements.frozen.txt (hashes: {LOCK})"


def _rebuild(wheel: Path) -> None:
    """The same wheel (same files, same RECORD) written again with other zip timestamps: another
    file, with another sha256, under the same name and version."""
    with zipfile.ZipFile(wheel) as old:
        entries = [(item, old.read(item.filename)) for item in old.infolist()]
    with zipfile.ZipFile(wheel, "w") as new:
        for item, data in entries:
            item.date_time = (2001, 2, 3, 4, 5, 6)
            new.writestr(item, data)


def _mlproj(tmp_path: Path, store: Path, home: str, *args: str) -> CompletedProcess[str]:
    """`mlproj ARGS` into `store`, on its own fresh cache `home`."""
    return run_cli(
        [*args, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / home)},
    )


def _ran(done: CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return run_id(done.stderr)


def _reproductions(store: Path, original: str) -> set[str]:
    runs = open_store(str(store)).search_runs(["0"])
    return {r.info.run_id for r in runs if r.tags.get("mlproj.reproduces") == original}


def _lock(store: Path, run: str) -> Path:
    """Where the file store keeps a run's hashed lock."""
    return store / "0" / run / "artifacts" / LOCK  # experiment 0, the default


def _environment(store: Path, a: str, b: str) -> tuple[list[str], dict[str, Any]]:
    """The environment section of `runs diff A B`, as text lines and as --json."""
    args = ["runs", "diff", a, b, "--tracking-uri", str(store)]
    text, data = run_cli(args), run_cli([*args, "--json"])
    assert text.returncode == 0 and data.returncode == 0, text.stderr + data.stderr
    lines = text.stdout.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("environment"))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    return lines[start:end], json.loads(data.stdout)["environment"]


@pytest.mark.slow  # three env builds
def test_a_wheel_rebuilt_under_the_same_version_is_flagged_between_real_runs(
    tmp_path: Path, repo: tuple[Path, str], index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = repo
    store = tmp_path / "mlruns"

    def run(home: str) -> str:
        done = run_cli(
            ["run", f"{url}#models/repro", "--tracking-uri", str(store)],
            cwd=tmp_path,
            env={"MLPROJ_HOME": str(tmp_path / home)},
        )
        assert done.returncode == 0, done.stderr
        return run_id(done.stderr)

    first, second = run("home-1"), run("home-2")
    lines, env = _environment(store, first, second)
    assert lines == [f"environment (from {BOTH} / {BOTH}):", "  (same)"]
    assert env["hash_locks"] == [LOCK] * 2

    _rebuild(next(index.glob("mlpt_alpha-1.0-*.whl")))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # not the cached old file
    rebuilt = run("home-3")
    lines, env = _environment(store, first, rebuilt)
    assert len(lines) == 2 and lines[1].startswith(
        "  ! mlpt-alpha: 1.0, same version but another file (sha256:"
    ), lines
    assert (env["changed"], env["added"], env["removed"]) == ({}, {}, {})
    assert list(env["hash_changed"]) == ["mlpt-alpha"]


@pytest.mark.slow  # four env builds, one of them refused
def test_a_reproduction_records_the_hashed_lock_it_installed_and_is_compared_by_hash(
    tmp_path: Path, repo: tuple[Path, str], index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, url = repo
    store = tmp_path / "mlruns"
    project = f"{url}#models/repro"
    original = _ran(_mlproj(tmp_path, store, "home-1", "run", project))
    done = _mlproj(tmp_path, store, "home-2", "reproduce", original)
    assert done.returncode == 0, done.stdout + done.stderr
    (copy,) = _reproductions(store, original)

    recorded = _lock(store, copy).read_text()
    assert recorded == _lock(store, original).read_text()
    pins = parse_requirements(recorded)
    assert pins["mlpt-alpha"].version == "1.0"
    assert all(pin.hashes for pin in pins.values())  # every pin is compared by its files
    lines, env = _environment(store, original, copy)
    assert lines == [f"environment (from {BOTH} / {BOTH}):", "  (same)"]
    assert env["hash_locks"] == [LOCK] * 2
    assert (env["changed"], env["added"], env["removed"], env["hash_changed"]) == ({}, {}, {}, {})

    # another file under the same version: a run that installed it differs from the
    # reproduction by hash, and a reproduction of the original refuses it, even with the
    # user's uv told not to check hashes, so no reproduction records hashes it did not install
    _rebuild(next(index.glob("mlpt_alpha-1.0-*.whl")))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # not the cached old file
    rebuilt = _ran(_mlproj(tmp_path, store, "home-3", "run", project))
    lines, env = _environment(store, copy, rebuilt)
    assert lines[1].startswith("  ! mlpt-alpha: 1.0, same version but another file"), lines
    assert list(env["hash_changed"]) == ["mlpt-alpha"]
    monkeypatch.setenv("UV_NO_VERIFY_HASHES", "1")
    refused = _mlproj(tmp_path, store, "home-4", "reproduce", original)
    assert refused.returncode != 0
    assert "Hash mismatch for `mlpt-alpha==1.0`" in refused.stderr, refused.stderr
    (failed,) = _reproductions(store, original) - {copy}
    assert not _lock(store, failed).exists()


@pytest.mark.slow  # two env builds
def test_a_reproduction_of_a_lock_without_hashes_records_no_hashed_lock(
    tmp_path: Path, repo: tuple[Path, str], index: Path
) -> None:
    """An older run recorded only its freeze: the reproduction installs those plain pins, which
    uv cannot check, and records no hashed lock claiming it did."""
    _, url = repo
    store = tmp_path / "mlruns"
    original = _ran(_mlproj(tmp_path, store, "home-1", "run", f"{url}#models/repro"))
    _lock(store, original).unlink()  # as a run from before the hashed lock
    done = _mlproj(tmp_path, store, "home-2", "reproduce", original)
    assert done.returncode == 0, done.stdout + done.stderr
    (copy,) = _reproductions(store, original)
    assert "from environment/requirements.frozen.txt" in done.stderr
    assert not _lock(store, copy).exists()
    lines, env = _environment(store, original, copy)
    frozen = "environment/requirements.frozen.txt"
    assert lines == [f"environment (from {frozen} / {frozen}):", "  (same)"]
    assert env["hash_locks"] == [None, None]
