"""MLproject, python_env.yaml and conda.yml: parsing, validation, entry points, parameters."""

from __future__ import annotations

from mlproj.spec.envfiles import load_conda_env, load_python_env
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

__all__ = [
    "CondaEnv",
    "DockerEnv",
    "EntryPoint",
    "EnvDecl",
    "Parameter",
    "Project",
    "PythonEnv",
    "ResolvedCommand",
    "load_conda_env",
    "load_python_env",
]
