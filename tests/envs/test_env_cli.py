"""`mlproj env create / list / rm / prune`, run as a user would."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mlproj.envs import cache
from tests.helpers import needs_uv, run_cli


@needs_uv
@pytest.mark.usefixtures("offline")
def test_create_list_rm(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "python_env.yaml").write_text("dependencies: [mlpt-gamma]\n")
    created = run_cli(["env", "create", str(proj), "--json"])
    assert created.returncode == 0, created.stderr
    result = json.loads(created.stdout)
    assert result["manager"] == "virtualenv" and Path(result["path"]).is_dir()
    assert "; resolving 1 requirement\nmlproj: virtualenv: installing 1 locked package\n" in (
        created.stderr
    )

    listed = run_cli(["env", "list", "--json"])
    (entry,) = json.loads(listed.stdout)
    assert entry["key"] == result["key"] and entry["path"] == result["path"]
    assert entry["manager"] == "virtualenv" and entry["size_bytes"] > 0
    table = run_cli(["env", "list"]).stdout.splitlines()
    assert table[0].split() == ["KEY", "MANAGER", "SIZE", "LAST", "USED", "PATH"]
    assert table[1].startswith(result["key"][:12]) and result["path"] in table[1]

    again = run_cli(["env", "create", str(proj)])
    assert again.returncode == 0 and "installing" not in again.stderr  # reused

    removed = run_cli(["env", "rm", result["key"][:8]])
    assert removed.returncode == 0 and result["key"] in removed.stdout
    assert not Path(result["path"]).exists()
    missing = run_cli(["env", "rm", result["key"][:8]])
    assert missing.returncode == 1
    assert missing.stderr.startswith("mlproj: error: no cached environment matches")


def _write_x(path: Path) -> None:
    (path / "x").write_text("x")


def test_prune_by_last_use() -> None:
    keys = [cache.env_key({"n": i}) for i in range(2)]
    for key in keys:
        cache.ensure_env("test", key, _write_x, health=lambda p: (p / "x").exists())
    old = time.time() - 40 * 86400
    os.utime(cache.env_path(keys[0]) / cache.LAST_USED, (old, old))
    pruned = run_cli(["env", "prune", "--older-than", "30d"])
    assert pruned.returncode == 0, pruned.stderr
    assert keys[0] in pruned.stdout and keys[1] not in pruned.stdout
    assert [e.key for e in cache.list_envs()] == [keys[1]]
    assert run_cli(["env", "prune", "--older-than", "12h"]).stdout == ""


def test_prune_rejects_a_bad_age() -> None:
    bad = run_cli(["env", "prune", "--older-than", "soon"])
    assert bad.returncode == 2
    assert "--older-than 'soon' is not a duration" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_list_when_empty() -> None:
    empty = run_cli(["env", "list", "--json"])
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
