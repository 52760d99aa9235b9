"""Items 13, 14: a damaged or unusable file store gives named warnings or one clear error.

Read-only cases use a real read-only tmpfs (the suite runs as root, whom file modes do not stop);
they are skipped where mounting is not allowed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlproj.tracking.owner import HOST_TAG, OWNER_TAG, owner_tags
from mlproj.tracking.stores.file import FileStore
from tests.conftest import run_cli

MLPROJECT = "name: p\nentry_points:\n  main:\n    command: 'true'\n"


def _store_with_runs(root: Path, count: int = 3, experiment: str | None = None) -> list[str]:
    store = FileStore(root.as_uri())
    exp = store.resolve_experiment(experiment, None)
    ids = []
    for i in range(count):
        info = store.create_run(exp, user_id="u", start_time=1000 + i, tags={}, run_name=f"r{i}")
        store.log_params(info.run_id, {"p": str(i)})
        store.set_terminated(info.run_id, "FINISHED", 2000 + i)
        ids.append(info.run_id)
    return ids


def _run_dir(root: Path, run_id: str) -> Path:
    return next(root.glob(f"*/{run_id}"))


def _list(root: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(["runs", "list", "--tracking-uri", str(root)], cwd=root.parent)


def test_undecodable_tag_skips_the_file_not_the_store(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    ids = _store_with_runs(root)
    bad = _run_dir(root, ids[0]) / "params" / "p"
    bad.write_bytes(b"r\xff0")
    done = run_cli(["runs", "list", "--json", "--tracking-uri", str(root)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(i in done.stdout for i in ids)
    assert str(bad) in done.stderr and "not UTF-8" in done.stderr
    shown = run_cli(["runs", "show", ids[0], "--tracking-uri", str(root)], cwd=tmp_path)
    assert shown.returncode == 0 and str(bad) in shown.stderr


def test_truncated_run_meta_is_named_not_shown_as_running(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    ids = _store_with_runs(root)
    meta = _run_dir(root, ids[1]) / "meta.yaml"
    meta.write_bytes(meta.read_bytes()[:60])
    done = _list(root)
    assert done.returncode == 0, done.stderr
    assert ids[1][:8] not in done.stdout and "RUNNING" not in done.stdout
    assert ids[0][:8] in done.stdout and ids[2][:8] in done.stdout
    assert str(meta) in done.stderr and "truncated" in done.stderr
    shown = run_cli(["runs", "show", ids[1], "--tracking-uri", str(root)], cwd=tmp_path)
    assert shown.returncode == 1 and str(meta) in shown.stderr and "Traceback" not in shown.stderr


@pytest.mark.parametrize("damage", ["missing", "random bytes"])
def test_damaged_experiment_meta_is_named_and_doctor_recovers_it(
    tmp_path: Path, damage: str
) -> None:
    root = tmp_path / "mlruns"
    _store_with_runs(root, 1)
    hidden = _store_with_runs(root, 2, experiment="exp")
    exp_dir = _run_dir(root, hidden[0]).parent
    meta = exp_dir / "meta.yaml"
    if damage == "missing":
        meta.unlink()
    else:
        meta.write_bytes(os.urandom(200))
    done = _list(root)
    assert done.returncode == 0 and str(exp_dir) in done.stderr
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    checked = run_cli(["runs", "doctor", "--tracking-uri", str(root)], cwd=tmp_path)
    assert checked.returncode == 1 and str(exp_dir) in checked.stdout
    fixed = run_cli(["runs", "doctor", "--fix", "--tracking-uri", str(root)], cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    after = _list(root)
    assert all(i[:8] in after.stdout for i in hidden) and not after.stderr.strip()
    for path, data in before.items():  # nothing lost: every file is still there, unchanged
        if path == meta:
            assert next(iter(exp_dir.glob("meta.yaml.damaged-*"))).read_bytes() == data
        else:
            assert path.read_bytes() == data


def _running(root: Path, tags: dict[str, str]) -> str:
    store = FileStore(root.as_uri())
    info = store.create_run("0", user_id="u", start_time=1, tags=tags, run_name=None)
    return info.run_id


def test_doctor_kills_only_runs_whose_owner_is_provably_gone(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    _store_with_runs(root, 1)
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    mine = owner_tags()
    boot = mine[OWNER_TAG].split(":")[2]
    gone = _running(root, {OWNER_TAG: f"{dead.pid}:1:{boot}", HOST_TAG: host})
    alive = _running(root, mine)
    unknown = _running(root, {})
    elsewhere = _running(root, {OWNER_TAG: f"1:1:{boot}", HOST_TAG: "other-host"})
    fixed = run_cli(["runs", "doctor", "--fix", "--tracking-uri", str(root)], cwd=tmp_path)
    assert "marked KILLED" in fixed.stdout
    store = FileStore(root.as_uri())
    assert store.get_run(gone).info.status == "KILLED"
    assert "mlproj.doctor" in store.get_run(gone).tags
    for run_id in (alive, unknown, elsewhere):
        assert store.get_run(run_id).info.status == "RUNNING"
    assert str(_run_dir(root, unknown)) in fixed.stdout  # reported, not changed
    assert fixed.returncode == 1  # the unknown ones remain


# -- item 14 ----------------------------------------------------------------------------------


def _project(tmp_path: Path) -> Path:
    (tmp_path / "MLproject").write_text(MLPROJECT)
    return tmp_path


def _assert_clear(done: subprocess.CompletedProcess[str], *words: str) -> None:
    assert done.returncode != 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for word in words:
        assert word in done.stderr


@pytest.mark.parametrize("shape", ["mlruns is a file", "mlruns/0 is a file", "mlruns/0 -> file"])
def test_store_shapes(tmp_path: Path, shape: str) -> None:
    root = _project(tmp_path) / "mlruns"
    if shape == "mlruns is a file":
        root.write_text("x")
        where = str(root)
    else:
        root.mkdir()
        target = tmp_path / "target"
        target.write_text("x")
        if shape.endswith("-> file"):
            (root / "0").symlink_to(target)
        else:
            (root / "0").write_text("x")
        where = str(root / "0")
    _assert_clear(_list(root), where, "not a directory")
    ran = run_cli(["run", ".", "--env-manager", "local", "--tracking-uri", str(root)], cwd=tmp_path)
    _assert_clear(ran, where)


@contextlib.contextmanager
def _read_only_tmpfs(where: Path, populate: Path | None = None) -> Iterator[Path]:
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        if populate is not None:
            subprocess.run(["cp", "-a", f"{populate}/.", str(where)], check=True)
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_store(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    _store_with_runs(seed, 1)
    with _read_only_tmpfs(tmp_path / "ro", populate=seed) as root:
        assert _list(root).returncode == 0  # reading still works
        ran = run_cli(
            ["run", ".", "--env-manager", "local", "--tracking-uri", str(root)],
            cwd=_project(tmp_path),
        )
        _assert_clear(ran, str(root), "Read-only file system")


def test_read_only_mlproj_home(tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "python_env.yaml").write_text("dependencies: []\n")
    with _read_only_tmpfs(tmp_path / "home") as home:
        done = run_cli(["run", ".", "--dry-run"], cwd=project, env={"MLPROJ_HOME": str(home / "h")})
        _assert_clear(done, "MLPROJ_HOME", str(home))
