"""Typed, frozen views of a project. Nothing downstream of `spec/` sees a raw YAML dict."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from mlproj._util.record import Record, field

EnvKind = Literal["conda", "python", "docker", "local"]

# Canonical parameter types; aliases (str, integer, boolean, double, number) map onto these.
ParamKind = Literal["string", "float", "int", "bool", "path", "uri"]


class Parameter(Record):
    name: str
    type: str  # as written in the MLproject (e.g. "integer"); see `kind` for the canonical one
    kind: ParamKind  # canonical type; unknown types are treated as "string"
    default: object = None  # the YAML value as loaded; None means "required" (MLflow's rule)
    # Why the declaration does not mean what it seems to (`{type:int, default:1}` without
    # spaces), for run's error about a missing value; `mlproj validate` warns about it.
    note: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


class EntryPoint(Record):
    name: str
    command: str  # a str.format template over the declared parameter names
    parameters: tuple[Parameter, ...] = ()  # in declaration order
    implicit: bool = False  # True for `-e script.py` / `-e run.sh` without a declaration
    # Why this entry point cannot run (no command, a placeholder naming no parameter...).
    # MLflow fails on these only when the entry point is run, so the project still loads.
    error: str | None = None

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


class DockerEnv(Record):
    image: str
    volumes: tuple[str, ...] = ()
    # (name, value): value None means "copy NAME from the host environment"
    environment: tuple[tuple[str, str | None], ...] = ()
    gpus: str | None = None  # mlproj extension: "all" or a count, like `docker run --gpus`


class EnvDecl(Record):
    """The environment a project declares (or that its files imply)."""

    kind: EnvKind
    file: Path | None = None  # absolute path of python_env.yaml / conda.yml, when there is one
    docker: DockerEnv | None = None


class Project(Record):
    directory: Path  # absolute; the command's working directory
    name: str | None
    env: EnvDecl
    entry_points: Mapping[str, EntryPoint] = field(default_factory=dict)
    spec_file: Path | None = None  # the MLproject file, if the project has one


class ResolvedCommand(Record):
    """An entry point with its parameters checked and rendered."""

    entry_point: str
    command: str  # the shell text to run with `bash -c`
    # values as the user gave them (or the defaults, str()-ed); this is what gets logged
    params: Mapping[str, str] = field(default_factory=dict)
