"""Every corpus project loads, validates clean with --strict, and renders MLflow's commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlproj.spec import describe_project, load_project, resolve_command, validate_path
from tests.spec.corpus import CASES, PROJECTS, Case

IDS = [case.name for case in CASES]


def test_the_corpus_table_covers_every_project() -> None:
    assert sorted(p.name for p in PROJECTS.iterdir()) == sorted(IDS)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_loads(case: Case) -> None:
    directory = PROJECTS / case.name
    project = load_project(directory)
    assert project.directory == directory
    assert project.env.kind == case.env
    expected_file = directory / case.env_file if case.env_file else None
    assert project.env.file == expected_file
    assert tuple(project.entry_points) == case.entry_points
    assert describe_project(project)["env"]["type"] == case.env


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_validates_strictly(case: Case) -> None:
    problems = validate_path(PROJECTS / case.name, strict=True)
    assert len(problems) == len(case.validate_warnings), problems
    for problem, words in zip(problems, case.validate_warnings, strict=True):
        assert words in problem.message


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_renders(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = PROJECTS / case.name
    monkeypatch.chdir(directory)
    project = load_project(directory)
    for entry_point, params, expected in case.runs:
        resolved = resolve_command(project, entry_point, params, Path.cwd())
        assert resolved.command == expected.replace("{dir}", str(directory))
        for name, value in params.items():
            assert resolved.params[name] == value  # logged as typed, never shell-quoted
