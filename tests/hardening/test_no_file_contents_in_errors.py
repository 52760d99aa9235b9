"""Item 15: an MLproject that is a symlink to some other file never has its contents echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

SECRET = "hunter2-s3cret-line"


@pytest.mark.parametrize("command", [["validate"], ["describe"], ["run", "--dry-run"]])
@pytest.mark.parametrize("content", [f"{SECRET}\n", f"user:{SECRET}:0:0\nother:x:1:1\n"])
def test_contents_never_echoed(tmp_path: Path, command: list[str], content: str) -> None:
    target = tmp_path / "elsewhere" / "secret.txt"
    target.parent.mkdir()
    target.write_text(content)
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").symlink_to(target)
    done = run_cli([*command, str(project)], cwd=tmp_path)
    assert done.returncode != 0
    assert "MLproject" in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_etc_passwd(tmp_path: Path) -> None:
    (tmp_path / "MLproject").symlink_to("/etc/passwd")
    for command in (["validate"], ["describe"], ["run", "--dry-run"]):
        done = run_cli([*command, str(tmp_path)], cwd=tmp_path)
        assert done.returncode != 0
        assert "root:" not in done.stdout + done.stderr


def test_env_file_contents_never_echoed(tmp_path: Path) -> None:
    (tmp_path / "MLproject").write_text(
        "name: p\npython_env: python_env.yaml\nentry_points:\n  main:\n    command: 'true'\n"
    )
    (tmp_path / "python_env.yaml").write_text(f"{SECRET}\n")
    done = run_cli(["validate", str(tmp_path)], cwd=tmp_path)
    assert done.returncode != 0 and SECRET not in done.stdout + done.stderr
