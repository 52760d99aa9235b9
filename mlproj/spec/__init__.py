"""MLproject, python_env.yaml and conda.yml: parsing, validation, entry points, parameters.

The functions other parts of mlproj call:
- load_project(directory) -> Project             (SpecError if MLflow would refuse it too)
- get_entry_point(project, name) -> EntryPoint    (declared, or a .py/.sh/.R script)
- resolve_command(project, ep, params, cwd) -> ResolvedCommand   (ParamError / SpecError)
- check_param_names(project, ep, params, strict) -> warnings about mistyped -P names
- load_python_env(path) -> PythonEnv, load_conda_env(path) -> CondaEnv
- validate_path(path, strict=False) -> list[Problem]
- describe_project(project) -> dict (the JSON of `mlproj describe --json`)
"""

from __future__ import annotations

from mlproj.spec.describe import describe_project
from mlproj.spec.envfiles import load_conda_env, load_python_env
from mlproj.spec.mlproject import load_project
from mlproj.spec.model import (
    CondaEnv,
    DockerEnv,
    EntryPoint,
    EnvDecl,
    Parameter,
    Project,
    PythonEnv,
    ResolvedCommand,
)
from mlproj.spec.problems import Problem
from mlproj.spec.resolve import RemoteFetch, check_param_names, get_entry_point, resolve_command
from mlproj.spec.validate import validate_path

__all__ = [
    "CondaEnv",
    "DockerEnv",
    "EntryPoint",
    "EnvDecl",
    "Parameter",
    "Problem",
    "Project",
    "PythonEnv",
    "RemoteFetch",
    "ResolvedCommand",
    "check_param_names",
    "describe_project",
    "get_entry_point",
    "load_conda_env",
    "load_project",
    "load_python_env",
    "resolve_command",
    "validate_path",
]
