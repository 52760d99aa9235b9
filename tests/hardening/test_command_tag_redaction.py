"""Item 3: no spelling of `-A env=NAME=value` records the value in mlproj.command."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.run.tags import redact_docker_env
from tests.conftest import run_cli

SECRET = "s3cr3t-value"

SPELLINGS = [
    ["-A", f"env=TOK={SECRET}"],
    [f"-Aenv=TOK={SECRET}"],
    [f"--docker-args=env=TOK={SECRET}"],
    ["--docker-args", f"env=TOK={SECRET}"],
    ["-A", f"e=TOK={SECRET}"],
    [f"-Ae=TOK={SECRET}"],
    ["-A", f"--env=TOK={SECRET}"],
    ["-A", f"ENV=TOK={SECRET}"],
    [f"--docker-args=e=TOK=a={SECRET}"],
]


@pytest.mark.parametrize("argv", SPELLINGS, ids=lambda a: " ".join(a))
def test_every_spelling_is_redacted(argv: list[str]) -> None:
    recorded = " ".join(redact_docker_env(["mlproj", "run", ".", *argv]))
    assert SECRET not in recorded
    assert "TOK=***" in recorded


def test_other_values_are_kept() -> None:
    argv = ["-A", "memory=1g", "-Amemory=2g", "-P", "env=a=b", "-A", "env=FROM_HOST"]
    assert redact_docker_env(argv) == argv


@pytest.mark.parametrize("argv", SPELLINGS[:4], ids=lambda a: " ".join(a))
def test_recorded_tag_of_a_real_run(tmp_path: Path, argv: list[str]) -> None:
    """A local run ignores -A; the tag it records must still hide the value."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "MLproject").write_text("name: p\nentry_points:\n  main:\n    command: 'true'\n")
    done = run_cli(["run", str(project), "--env-manager", "local", *argv], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tags = list((tmp_path / "mlruns").glob("*/*/tags/mlproj.command"))
    assert len(tags) == 1
    text = tags[0].read_text()
    assert "TOK=***" in text and SECRET not in text
