"""MLproject, python_env.yaml and conda.yml: parsing, validation, entry points, parameters.

The functions other parts of mlproj call:
- load_project(directory) -> Project             (SpecError if MLflow would refuse it too)
- get_entry_point(project, name) -> EntryPoint    (declared, or a .py/.sh/.R script)
- resolve_command(project, ep, params, cwd) -> ResolvedCommand   (ParamError / SpecError)
- check_param_names(project, ep, params, strict) -> warnings about mistyped -P names
- load_python_env(path) -> PythonEnv, load_conda_env(path) -> CondaEnv
- validate_path(path, strict=False) -> list[Problem]
- describe_project(project) -> dict (the JSON of `mlproj describe --json`)

Each name is imported from its module on first use: a run needs the loader and the resolver,
not the validator, the describer or the env-file readers (and their import-time cost).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlproj.spec.describe import describe_project
    from mlproj.spec.envfiles import CondaEnv, PythonEnv, load_conda_env, load_python_env
    from mlproj.spec.mlproject import load_project
    from mlproj.spec.model import (
        DockerEnv,
        EntryPoint,
        EnvDecl,
        Parameter,
        Project,
        ResolvedCommand,
    )
    from mlproj.spec.problems import Problem
    from mlproj.spec.resolve import (
        RemoteFetch,
        check_param_names,
        get_entry_point,
        resolve_command,
    )
    from mlproj.spec.validate import validate_path

# public name -> the module of this package that defines it
_WHERE = {
    "describe_project": "describe",
    "load_conda_env": "envfiles",
    "load_python_env": "envfiles",
    "load_project": "mlproject",
    "CondaEnv": "envfiles",
    "DockerEnv": "model",
    "EntryPoint": "model",
    "EnvDecl": "model",
    "Parameter": "model",
    "Project": "model",
    "PythonEnv": "envfiles",
    "ResolvedCommand": "model",
    "Problem": "problems",
    "RemoteFetch": "resolve",
    "check_param_names": "resolve",
    "get_entry_point": "resolve",
    "resolve_command": "resolve",
    "validate_path": "validate",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # found once; later lookups skip this function
    return value


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
