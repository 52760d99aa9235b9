"""`runs diff` of real virtualenv runs, each built on a fresh cache from a local wheel dir: the
same project run twice records the same hashed lock (no difference); run again after
mlpt-alpha 1.0 was rebuilt into another file under the same version, that package is flagged."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli
from tests.reproduce.conftest import run_id


def _rebuild(wheel: Path) -> None:
    """The same wheel (same files, same RECORD) written again with other zip timestamps: another
    file, with another sha256, under the same name and version."""
    with zipfile.ZipFile(wheel) as old:
        entries = [(item, old.read(item.filename)) for item in old.infolist()]
    with zipfile.ZipFile(wheel, "w") as new:
        for item, data in entries:
            item.date_time = (2001, 2, 3, 4, 5, 6)
            new.writestr(item, data)


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
    both = "environment/requirements.frozen.txt (hashes: environment/requirements.lock.txt)"
    lines, env = _environment(store, first, second)
    assert lines == [f"environment (from {both} / {both}):", "  (same)"]
    assert env["hash_locks"] == ["environment/requirements.lock.txt"] * 2

    _rebuild(next(index.glob("mlpt_alpha-1.0-*.whl")))
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))  # not the cached old file
    rebuilt = run("home-3")
    lines, env = _environment(store, first, rebuilt)
    assert len(lines) == 2 and lines[1].startswith(
        "  ! mlpt-alpha: 1.0, same version but another file (sha256:"
    ), lines
    assert (env["changed"], env["added"], env["removed"]) == ({}, {}, {})
    assert list(env["hash_changed"]) == ["mlpt-alpha"]
