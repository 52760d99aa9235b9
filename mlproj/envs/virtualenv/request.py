"""What a virtualenv must contain, from python_env.yaml, a converted conda.yml, or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mlproj.spec.envfiles import CondaEnv, PythonEnv
from mlproj.spec.model import Project

_BUILD_TOOLS = ("pip", "setuptools", "wheel")
_MATCH_SPEC = re.compile(r"^(?:[\w.\-/:]+::)?([A-Za-z0-9_.\-]+)\s*(.*)$")


@dataclass(frozen=True)
class VenvRequest:
    project_dir: Path
    source: str  # "python_env", "conda" (converted) or "none"
    env_file: Path | None
    python: str | None  # a version request; None = the interpreter running mlproj
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def load_request(project: Project) -> VenvRequest:
    """The virtualenv a project asks for (conda.yml converted the way MLflow does)."""
    from mlproj.spec import load_conda_env, load_python_env

    decl = project.env
    if decl.file is None:
        return VenvRequest(project.directory, "none", None, None)
    if decl.kind == "conda":
        env, warnings = from_conda(load_conda_env(decl.file), decl.file.name)
        return VenvRequest(
            project.directory,
            "conda",
            decl.file,
            env.python,
            env.build_dependencies,
            env.dependencies,
            tuple(warnings),
        )
    env = load_python_env(decl.file)
    return VenvRequest(
        project.directory,
        "python_env",
        decl.file,
        env.python,
        env.build_dependencies,
        env.dependencies,
        env.warnings,
    )


def from_conda(conda: CondaEnv, file_name: str) -> tuple[PythonEnv, list[str]]:
    """MLflow's conversion: python pin kept, pip/setuptools/wheel as build deps, `pip:` list as
    dependencies; every other conda package is dropped (reported in the warnings)."""
    python: str | None = None
    build: list[str] = []
    dropped: list[str] = []
    for spec in conda.dependencies:
        match = _MATCH_SPEC.match(spec.strip())
        name, rest = (match.group(1).lower(), match.group(2)) if match else (spec, "")
        if name == "python":
            python = _python_request(rest)
        elif name in _BUILD_TOOLS:
            build.append(name + _pip_constraint(rest))
        else:
            dropped.append(spec)
    warnings = []
    if python is None:
        warnings.append(f"{file_name} does not pin python; using this interpreter's version")
    if dropped:
        warnings.append(
            f"{file_name}: conda packages {', '.join(dropped)} are not installed by the "
            "virtualenv manager (only python, pip, setuptools, wheel and the `pip:` list are used)"
        )
    return PythonEnv(python, tuple(build), conda.pip), warnings


def _conda_version(rest: str) -> str:
    """`=3.11=h1234_0` -> `=3.11`; `3.11.*` -> `3.11.*` (the build string is dropped)."""
    text = rest.strip()
    if text.startswith("=") and not text.startswith("=="):
        return "=" + text[1:].split("=")[0].strip()
    return text.split(" ")[0] if not text[:1].isdigit() else text.split("=")[0].split(" ")[0]


def _python_request(rest: str) -> str | None:
    version = _conda_version(rest)
    if not version:
        return None
    if version.startswith("=") and not version.startswith("=="):
        return version[1:]  # conda's `python=3.11` means any 3.11.x
    return version[2:] if version.startswith("==") else version


def _pip_constraint(rest: str) -> str:
    version = _conda_version(rest)
    if not version:
        return ""
    if version[:1].isdigit():
        return "==" + version
    if version.startswith("=") and not version.startswith("=="):
        return "=" + version  # MLflow: a single `=` becomes `==`
    return version
