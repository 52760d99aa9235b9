"""`mlproj validate`: every problem of a project's files at once, with its place."""

from __future__ import annotations

import os
from pathlib import Path

from mlproj._util.record import replace
from mlproj.errors import SpecError
from mlproj.spec import yamltree
from mlproj.spec.envfiles import check_conda_env, check_python_env
from mlproj.spec.mlproject import analyze, find_mlproject
from mlproj.spec.model import EnvDecl, EnvKind
from mlproj.spec.problems import Problem, ProblemError, Problems
from mlproj.spec.resolve import SCRIPT_EXTENSIONS


def validate_path(path: Path, strict: bool = False) -> list[Problem]:
    """Problems of a project directory (or an MLproject file); `strict` makes warnings errors.

    `path` is a local directory or file; a caller that fetched a git URL passes the checkout.
    """
    found = _problems(path)
    if strict:
        found = [replace(p, severity="error") for p in found]
    return sorted(found, key=lambda p: (str(p.file), p.line, p.column))


def _problems(path: Path) -> list[Problem]:
    if not path.exists():
        return [Problem(path, 1, 1, "error", "no such file or directory")]
    kind = _env_file_kind(path)
    if kind is not None:  # one environment file on its own
        return _env_file_problems(path.parent, EnvDecl(kind, Path(os.path.abspath(path))))
    if path.is_dir():
        directory = path
        try:
            spec_file = find_mlproject(path)
        except SpecError as exc:
            return [Problem(path, 1, 1, "error", exc.message)]
    else:
        directory, spec_file = path.parent, path
    problems = Problems(spec_file or directory)
    if spec_file is None and not _has_scripts(directory):
        problems.warn(0, 0, "no MLproject file and no script (.py, .sh, .R) to run here")
    if spec_file is not None and path.is_dir():
        _warn_several_mlprojects(directory, spec_file, problems)
    root = None
    if spec_file is not None:
        try:
            root = yamltree.load(spec_file, problems)
        except ProblemError as exc:
            return [*problems.items, exc.problem]
    project = analyze(Path(os.path.abspath(directory)), spec_file, root, problems)
    return problems.items + _env_file_problems(directory, project.env)


def _env_file_problems(directory: Path, env: EnvDecl) -> list[Problem]:
    if env.file is None or not env.file.is_file():
        return []  # a missing file is already an MLproject problem
    shown = env.file
    if env.file.is_relative_to(os.path.abspath(directory)):
        shown = directory / env.file.relative_to(os.path.abspath(directory))
    problems = Problems(shown)
    try:
        root = yamltree.load(env.file, problems)
    except ProblemError as exc:
        return [*problems.items, replace(exc.problem, file=shown)]
    if env.kind == "python":
        check_python_env(shown, root, problems)
    else:
        check_conda_env(shown, root, problems)
    return problems.items


def _has_scripts(directory: Path) -> bool:
    try:
        return any(p.suffix in SCRIPT_EXTENSIONS and p.is_file() for p in directory.iterdir())
    except OSError:
        return False


def _env_file_kind(path: Path) -> EnvKind | None:
    """python_env*.yaml is a python env, conda*/environment*.y(a)ml a conda one."""
    name = path.name.lower()
    if not path.is_file() or not name.endswith((".yaml", ".yml")):
        return None
    if name.startswith("python_env"):
        return "python"
    if name.startswith(("conda", "environment")):
        return "conda"
    return None


def _warn_several_mlprojects(directory: Path, chosen: Path, problems: Problems) -> None:
    others = sorted(
        p.name
        for p in directory.iterdir()
        if p.name.lower() == "mlproject" and p.name != chosen.name
    )
    if others:
        problems.warn(
            0,
            0,
            f"several MLproject files ({', '.join([chosen.name, *others])}); "
            f"mlproj reads {chosen.name}, MLflow whichever it lists first",
        )
