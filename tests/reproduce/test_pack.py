"""`mlproj pack`: a deterministic bundle whose locks let it run without resolving anything."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from mlproj.tracking import open_store
from tests.conftest import run_cli
from tests.reproduce.conftest import publish
from tests.sources.gitrepos import commit_files, git


def test_pack_twice_gives_the_same_bytes_and_honours_mlprojignore(
    tmp_path: Path, repo: tuple[Path, str], index: Path
) -> None:
    work, _ = repo
    project = work / "models/repro"
    commit_files(
        work,
        {"models/repro/.mlprojignore": "notes/\n*.tmp\n", "models/repro/notes/todo.md": "x\n"},
        "ignore notes",
    )
    (project / "scratch.txt").write_text("untracked\n")
    (project / "train.py").write_text("uncommitted edit\n")  # packs HEAD, not the work tree
    first = run_cli(["pack", str(project), "-o", str(tmp_path / "a.zip"), "--json"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_cli(["pack", str(project), "-o", str(tmp_path / "b.zip")], cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    result = json.loads(first.stdout)
    assert result["commit"] == git("rev-parse", "HEAD", cwd=work).strip()
    assert result["generated_locks"] == ["python_env.lock.txt"]
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        names = sorted(archive.namelist())
        lock = archive.read("python_env.lock.txt").decode()
        train = archive.read("train.py").decode()
        manifest = json.loads(archive.read("mlproj-bundle.json"))
    assert names == [
        ".mlprojignore",
        "MLproject",
        "mlproj-bundle.json",
        "python_env.lock.txt",
        "python_env.yaml",
        "train.py",
    ]
    assert "mlpt-alpha==1.0" in lock and "--hash=sha256:" in lock
    assert "uncommitted" not in train
    assert manifest["source"]["commit"] == result["commit"]
    assert manifest["env"]["locks"] == ["python_env.lock.txt"]


@pytest.mark.slow  # an env build on a fresh cache
def test_a_bundle_runs_from_its_lock_on_a_fresh_cache_and_validates(
    tmp_path: Path, repo: tuple[Path, str], index: Path, wheelhouse: Path
) -> None:
    work, _ = repo
    bundle = tmp_path / "bundle.zip"
    packed = run_cli(["pack", str(work / "models/repro"), "-o", str(bundle)], cwd=tmp_path)
    assert packed.returncode == 0, packed.stderr
    publish(index, wheelhouse, "2.0")  # a solve would now take 2.0; the lock says 1.0
    home = tmp_path / "fresh-home"
    store = tmp_path / "mlruns"
    ran = run_cli(
        ["run", str(bundle), "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(home)},
    )
    assert ran.returncode == 0, ran.stderr
    assert "alpha 1.0" in ran.stdout
    logs = "".join(p.read_text() for p in (home / "logs").glob("*.log"))
    assert "project lock; no dependency resolution" in logs
    [run] = open_store(str(store)).search_runs(["0"])
    assert run.tags["mlproj.bundle.sha256"] == hashlib.sha256(bundle.read_bytes()).hexdigest()
    assert run.tags["mlproj.env.lockfile"] == "project"
    again = run_cli(
        ["reproduce", run.info.run_id, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "another-home")},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "alpha 1.0" in again.stdout and "reproduced (bit-identical)" in again.stdout

    assert run_cli(["validate", str(bundle)]).returncode == 0
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"print('changed')\n" if info.filename == "train.py" else data)
    checked = run_cli(["validate", str(tampered)])
    assert checked.returncode == 1
    assert "train.py does not match its sha256 in the manifest" in checked.stdout
