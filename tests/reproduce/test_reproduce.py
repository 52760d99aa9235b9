"""`mlproj reproduce`: a colleague's run rebuilt from what it recorded, on a fresh cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlproj.tracking import open_store
from tests.conftest import run_cli
from tests.reproduce.conftest import publish, run_id
from tests.sources.gitrepos import git


def _build_logs(home: Path) -> str:
    return "".join(p.read_text() for p in sorted((home / "logs").glob("*.log")))


@pytest.mark.slow  # two runs and an env build on a fresh cache
def test_reproduce_from_a_file_git_url_on_a_fresh_cache_uses_the_recorded_lock(
    tmp_path: Path, repo: tuple[Path, str], index: Path, wheelhouse: Path
) -> None:
    _, url = repo
    store = tmp_path / "mlruns"
    first = run_cli(
        ["run", f"{url}#models/repro", "-P", "lr=0.25", "--tracking-uri", str(store)],
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    assert "alpha 1.0" in first.stdout
    original = run_id(first.stderr)
    tags = open_store(str(store)).get_run(original).tags
    assert tags["mlproj.reproducible"] == "true"
    assert tags["mlproj.source.uri"] == url
    assert tags["mlproj.source.subdir"] == "models/repro"
    hashed = open_store(str(store)).read_artifact(original, "environment/requirements.lock.txt")
    assert b"mlpt-alpha==1.0" in hashed and b"--hash=sha256:" in hashed

    publish(index, wheelhouse, "2.0")  # the index moved on: a fresh solve would take 2.0
    home = tmp_path / "colleague-home"
    elsewhere = tmp_path / "colleague-cwd"
    elsewhere.mkdir()
    again = run_cli(
        ["reproduce", original[:8], "--tracking-uri", str(store)],
        cwd=elsewhere,
        env={"MLPROJ_HOME": str(home)},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "alpha 1.0" in again.stdout
    assert "reproduced (bit-identical)" in again.stdout
    assert "from environment/requirements.lock.txt" in again.stderr  # pins with their hashes
    logs = _build_logs(home)
    assert "no dependency resolution" in logs  # the recorded pins, not a solve
    assert "installing the requirements" not in logs
    runs = open_store(str(store)).search_runs(["0"])
    new = next(r for r in runs if r.tags.get("mlproj.reproduces") == original)
    assert new.params["lr"] == "0.25"
    assert new.metrics == open_store(str(store)).get_run(original).metrics
    # the reproduction installed the recorded lock and records it again: compared by hash
    same = run_cli(
        ["runs", "diff", original, new.info.run_id, "--json", "--tracking-uri", str(store)]
    )
    assert same.returncode == 0, same.stderr
    env = json.loads(same.stdout)["environment"]
    assert env["hash_locks"] == ["environment/requirements.lock.txt"] * 2
    assert (env["changed"], env["added"], env["removed"], env["hash_changed"]) == ({}, {}, {}, {})

    # the project re-run normally on another machine now gets alpha 2.0; `runs diff` says so
    drifted = run_cli(
        ["run", f"{url}#models/repro", "-P", "lr=0.25", "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "third-home")},
    )
    assert drifted.returncode == 0, drifted.stderr
    assert "alpha 2.0" in drifted.stdout
    changed = run_id(drifted.stderr)
    diff = run_cli(["runs", "diff", original, changed, "--tracking-uri", str(store)])
    assert diff.returncode == 0, diff.stderr
    assert "mlpt-alpha" in diff.stdout and "1.0 -> 2.0" in diff.stdout, diff.stdout
    assert "metrics.loss" in diff.stdout
    data = json.loads(
        run_cli(["runs", "diff", f"{store}#{original}", f"{store}#{changed}", "--json"]).stdout
    )
    assert data["environment"]["changed"] == {"mlpt-alpha": ["1.0", "2.0"]}

    compared = run_cli(["runs", "compare", original, changed, "--tracking-uri", str(store)])
    assert "* env " in compared.stdout  # the lock differs, so the row is shown and marked
    assert "commit" not in compared.stdout  # the same commit: no row
    as_json = json.loads(
        run_cli(
            ["runs", "compare", original, changed, "--json", "--tracking-uri", str(store)]
        ).stdout
    )
    assert as_json["runs"][0]["tags"]["mlproj.source.uri"] == url

    # reproducing the drifted run with a tolerance that cannot cover the change fails
    worse = run_cli(
        ["reproduce", changed, "--tracking-uri", str(store), "-P", "lr=0.5", "--json"],
        cwd=elsewhere,
        env={"MLPROJ_HOME": str(home)},
    )
    assert worse.returncode == 1, worse.stderr
    report = json.loads(worse.stdout)
    assert report["reproduced"] is False
    assert any(not m["agrees"] for m in report["metrics"])


def test_a_dirty_tree_run_is_reproduced_with_its_saved_diff(
    tmp_path: Path, repo: tuple[Path, str], index: Path
) -> None:
    work, _ = repo
    (work / "models/repro/SCALE").write_text("0.5\n")
    git("add", "models/repro/SCALE", cwd=work)  # staged, not committed: part of `git diff HEAD`
    store = tmp_path / "mlruns"
    first = run_cli(["run", str(work / "models/repro"), "--tracking-uri", str(store)], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    original = run_id(first.stderr)
    run = open_store(str(store)).get_run(original)
    assert run.tags["mlproj.git.dirty"] == "true"
    assert run.tags["mlproj.reproducible"] == "true"
    git("reset", "-q", "--hard", cwd=work)  # the colleague's edits are gone from the tree
    again = run_cli(
        ["reproduce", original, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "fresh")},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reproduced (bit-identical)" in again.stdout


def test_untracked_files_make_a_dirty_run_unreproducible_without_snapshot(
    tmp_path: Path, repo: tuple[Path, str], index: Path
) -> None:
    work, _ = repo
    (work / "models/repro/SCALE").write_text("0.5\n")  # untracked: not in the diff
    store = tmp_path / "mlruns"
    first = run_cli(["run", str(work / "models/repro"), "--tracking-uri", str(store)], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    original = run_id(first.stderr)
    shown = run_cli(["runs", "show", original, "--tracking-uri", str(store)], cwd=tmp_path)
    assert "dirty tree without --snapshot" in shown.stdout
    refused = run_cli(["reproduce", original, "--tracking-uri", str(store)], cwd=tmp_path)
    assert refused.returncode == 1
    assert "cannot be reproduced: dirty tree without --snapshot" in refused.stderr
    assert len(open_store(str(store)).search_runs(["0"])) == 1  # no run was created


@pytest.mark.slow  # runs twice, with an env build
def test_a_non_git_directory_reproduces_only_with_snapshot(tmp_path: Path, index: Path) -> None:
    from tests.reproduce.conftest import FILES

    project = tmp_path / "plain"
    project.mkdir()
    for name, text in FILES.items():
        (project / name).write_text(text)
    (project / "SCALE").write_text("0.75\n")
    store = tmp_path / "mlruns"
    plain = run_cli(["run", str(project), "--tracking-uri", str(store)], cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    plain_id = run_id(plain.stderr)
    shown = run_cli(["runs", "show", plain_id, "--tracking-uri", str(store)], cwd=tmp_path)
    assert "source is a local path with no remote" in shown.stdout
    refused = run_cli(["reproduce", plain_id, "--tracking-uri", str(store)], cwd=tmp_path)
    assert refused.returncode == 1 and "--snapshot" in refused.stderr

    saved = run_cli(["run", str(project), "--snapshot", "--tracking-uri", str(store)], cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    saved_id = run_id(saved.stderr)
    (project / "SCALE").write_text("9\n")  # the directory changes later; the snapshot does not
    again = run_cli(
        ["reproduce", f"runs:/{saved_id}", "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "fresh")},
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reproduced (bit-identical)" in again.stdout


def test_run_of_a_run_reference_points_at_reproduce(tmp_path: Path) -> None:
    result = run_cli(["run", "runs:/0123456789abcdef"], cwd=tmp_path)
    assert result.returncode == 2
    assert "mlproj reproduce runs:/0123456789abcdef" in result.stderr


def test_reproduce_of_an_unreachable_remote_fails_before_any_run(
    tmp_path: Path, repo: tuple[Path, str], index: Path
) -> None:
    _, url = repo
    store = tmp_path / "mlruns"
    first = run_cli(["run", f"{url}#models/repro", "--tracking-uri", str(store)], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    original = run_id(first.stderr)
    bare = Path(url[len("file://") :])
    bare.rename(bare.with_name("moved.git"))
    refused = run_cli(
        ["reproduce", original, "--tracking-uri", str(store)],
        cwd=tmp_path,
        env={"MLPROJ_HOME": str(tmp_path / "fresh")},
    )
    assert refused.returncode == 1
    assert "mlproj: error:" in refused.stderr and "Traceback" not in refused.stderr
    assert len(open_store(str(store)).search_runs(["0"])) == 1
