"""`mlproj run GIT_URL#subdir -v VERSION`: the issue's headline command, over a git daemon."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.run.conftest import only_run
from tests.sources.gitrepos import GitDaemon, commit_files, git

TRAIN = """\
import sys
epochs = int(sys.argv[1])
print(f"trained {epochs} epochs at", open("VERSION").read().strip())
"""
MLPROJECT = """\
name: cnn
entry_points:
  train:
    parameters:
      epochs: {type: int, default: 10}
    command: "python train.py {epochs}"
"""


@pytest.fixture
def served_repo(tmp_path: Path) -> Iterator[tuple[GitDaemon, dict[str, str]]]:
    work = tmp_path / "team-repo"
    git("init", "-q", str(work))
    shas = {
        "v1.2": commit_files(
            work,
            {
                "models/cnn/MLproject": MLPROJECT,
                "models/cnn/train.py": TRAIN,
                "models/cnn/VERSION": "1.2\n",
            },
            "release",
        )
    }
    git("tag", "v1.2", cwd=work)
    git("checkout", "-q", "-b", "feature", cwd=work)
    shas["feature"] = commit_files(work, {"models/cnn/VERSION": "feature\n"}, "wip")
    git("checkout", "-q", "main", cwd=work)
    served = tmp_path / "served"
    served.mkdir()
    git("clone", "-q", "--bare", str(work), str(served / "repo.git"))
    daemon = GitDaemon(served).start()
    yield daemon, shas
    daemon.stop()


def test_run_a_tag_of_a_subdirectory_from_a_git_url(
    tmp_path: Path, served_repo: tuple[GitDaemon, dict[str, str]]
) -> None:
    daemon, shas = served_repo
    url = daemon.url("repo.git")
    store = tmp_path / "mlruns"
    result = run_cli(
        [
            "run",
            f"{url}#models/cnn",
            "-v",
            "v1.2",
            "-e",
            "train",
            "-P",
            "epochs=2",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "trained 2 epochs at 1.2" in result.stdout
    run = only_run(store)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"epochs": "2"}
    tags = run.data.tags
    assert tags["mlflow.source.name"] == f"{url}#models/cnn"
    assert tags["mlflow.source.git.commit"] == shas["v1.2"]
    assert tags["mlflow.source.git.repoURL"] == url
    assert tags["mlproj.git.tag"] == "v1.2"
    assert tags["mlproj.git.dirty"] == "false"
    assert tags["mlflow.project.entryPoint"] == "train"


def test_run_a_branch_records_it(
    tmp_path: Path, served_repo: tuple[GitDaemon, dict[str, str]]
) -> None:
    daemon, shas = served_repo
    store = tmp_path / "mlruns"
    result = run_cli(
        [
            "run",
            f"{daemon.url('repo.git')}#models/cnn",
            "-v",
            "feature",
            "-e",
            "train",
            "--env-manager",
            "local",
            "--tracking-uri",
            str(store),
        ]
    )
    assert result.returncode == 0, result.stderr
    assert "trained 10 epochs at feature" in result.stdout
    tags = only_run(store).data.tags
    assert tags["mlflow.source.git.branch"] == "feature"
    assert tags["mlflow.source.git.commit"] == shas["feature"]


def test_a_dirty_local_project_saves_its_diff(tmp_path: Path) -> None:
    work = tmp_path / "proj"
    git("init", "-q", str(work))
    commit_files(work, {"MLproject": MLPROJECT, "train.py": TRAIN, "VERSION": "1\n"}, "c1")
    (work / "VERSION").write_text("local edit\n")
    store = tmp_path / "mlruns"
    result = run_cli(
        ["run", str(work), "-e", "train", "--env-manager", "local", "--tracking-uri", str(store)]
    )
    assert result.returncode == 0, result.stderr
    run = only_run(store)
    assert run.data.tags["mlproj.git.dirty"] == "true"
    diffs = list(store.glob(f"0/{run.info.run_id}/artifacts/mlproj/git.diff"))
    assert diffs and "+local edit" in diffs[0].read_text()


def test_a_missing_path_is_reported_as_such(tmp_path: Path) -> None:
    result = run_cli(
        ["run", "no-such-dir", "--tracking-uri", str(tmp_path / "mlruns")], cwd=tmp_path
    )
    assert result.returncode == 1
    assert "no such project directory" in result.stderr
    assert "Traceback" not in result.stderr
