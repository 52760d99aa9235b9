"""Entry points and parameters: from `-e NAME -P k=v` to the shell text MLflow would run."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path

from mlproj.errors import ParamError, SpecError
from mlproj.spec.model import EntryPoint, Parameter, Project, ResolvedCommand
from mlproj.spec.params import local_path, render, value_problem

SCRIPT_EXTENSIONS = (".py", ".sh", ".R")


def _script_command(name: str) -> str | None:
    """MLflow's command for an undeclared script entry point (None: not a script)."""
    extension = os.path.splitext(name)[1]
    if extension == ".py":
        return f"python {shlex.quote(name)}"
    if extension == ".sh":
        return f"{os.environ.get('SHELL', 'bash')} {shlex.quote(name)}"
    if extension == ".R":
        return _r_command(name)
    return None


def _r_command(name: str) -> str:
    """MLflow's Rscript line; a name that is not shell-plain is quoted for R and bash both.

    MLflow pastes a shell-quoted name inside a double-quoted shell string, where `$(...)`
    and a `"` in the name would be run or break the line: we never do that."""
    if shlex.quote(name) == name:  # plain: the exact text MLflow writes
        return f"Rscript -e \"mlflow::mlflow_source('{name}')\" --args"
    r_string = "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"Rscript -e {shlex.quote(f'mlflow::mlflow_source({r_string})')} --args"


def get_entry_point(project: Project, name: str) -> EntryPoint:
    """A declared entry point, or a script in the project run as MLflow runs it."""
    declared = project.entry_points.get(name)
    if declared is not None:
        if declared.error:
            raise SpecError(
                f"{project.spec_file}: {declared.error}",
                "run `mlproj validate` to see every problem",
            )
        return declared
    command = _script_command(name)
    names = list(project.entry_points)
    if command is None:
        raise SpecError(
            f"Could not find {name} among entry points {names} or interpret {name} as a "
            f"runnable script. Supported script file extensions: {list(SCRIPT_EXTENSIONS)}",
            f"use one of {names}" if names else "name a script, e.g. -e train.py",
        )
    # a docker image may bring the script itself; elsewhere a missing file is a typo
    if project.env.kind != "docker" and not (project.directory / name).is_file():
        raise SpecError(
            f"no entry point {name!r} in the project, and no file {name} in {project.directory}",
            f"entry points: {names}" if names else None,
        )
    return EntryPoint(name, command, (), implicit=True)


def check_param_names(
    project: Project, entry_point: str, user_params: Mapping[str, str], *, strict: bool = False
) -> list[str]:
    """Warnings for undeclared -P names that look like a declared one (a typo MLflow would pass
    on as `--name value`); with `strict`, any undeclared name is a ParamError instead."""
    ep = get_entry_point(project, entry_point)
    if ep.implicit:  # a script declares nothing: every name is passed on, by design
        return []
    declared = [p.name for p in ep.parameters]
    warnings: list[str] = []
    for name, value in user_params.items():
        if ep.parameter(name) is not None:
            continue
        close = _closest(name, declared)
        guess = f"; did you mean {close}?" if close else ""
        passed = f"--{shlex.quote(name)} {shlex.quote(value)}"
        if strict:
            known = ", ".join(declared) or "none"
            raise ParamError(
                f"-P {name}: not a parameter of {ep.name}{guess}",
                f"declared: {known}; without --strict-params it would be passed as {passed}",
            )
        if close:
            warnings.append(
                f"-P {name}: not a parameter of {ep.name}{guess} It will be passed as {passed}"
            )
    return warnings


def _closest(name: str, declared: list[str]) -> str | None:
    """The declared name `name` was probably meant to be: same letters ignoring case and
    separators (convSize / conv_size), else difflib's closest."""
    folded = _fold(name)
    for candidate in declared:
        if _fold(candidate) == folded:
            return candidate
    import difflib  # only when a name is undeclared: keeps start-up light

    close = difflib.get_close_matches(name, declared, n=1, cutoff=0.75)
    return close[0] if close else None


def _fold(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


# (parameter name, remote value) -> local path of the downloaded file or directory
RemoteFetch = Callable[[str, str], str]


def resolve_command(
    project: Project,
    entry_point: str,
    user_params: Mapping[str, str],
    cwd: Path,
    *,
    fetch: RemoteFetch | None = None,
    type_check: bool = True,
) -> ResolvedCommand:
    """Check the values and render the command; raise ParamError naming every problem.

    A `path` value with a remote scheme goes to `fetch`; without one it is refused.
    `type_check=False` passes -P values of int/float/bool/uri parameters unchecked."""
    ep = get_entry_point(project, entry_point)
    missing = [p for p in ep.parameters if p.name not in user_params and p.required]
    problems = []
    if missing:
        names = ", ".join(f"'{p.name}'" for p in missing)
        problems.append(f"No value given for missing parameters: {names}")
        # `{type:int, default:1}`: the user believes there is a default; say why there is none
        problems.extend(f"'{p.name}': {p.note}" for p in missing if p.note)
    for_command: dict[str, str] = {}
    logged: dict[str, str] = {}
    for param in ep.parameters:
        try:
            value = _value(param, user_params, project.directory, cwd, fetch, type_check)
        except ParamError as exc:
            problems.append(exc.message)
            continue
        if value is not None:
            logged[param.name], for_command[param.name] = value
    if problems:
        raise ParamError(
            "; ".join(problems),
            _hint(missing, problems),
        )
    text = render(ep.command, {k: shlex.quote(v) for k, v in for_command.items()})
    extras = {k: v for k, v in user_params.items() if ep.parameter(k) is None}
    parts = [text, *(f"--{shlex.quote(k)} {shlex.quote(v)}" for k, v in extras.items())]
    return ResolvedCommand(ep.name, " ".join(parts), {**logged, **extras})


TYPE_CHECK_OFF = "to pass it anyway: --no-type-check, or MLPROJ_NO_TYPE_CHECK=1"


def _hint(missing: list[Parameter], problems: list[str]) -> str | None:
    if any(p.startswith("invalid value") for p in problems):
        return TYPE_CHECK_OFF
    if missing and len(problems) == 1:
        return "pass each one as -P name=value"
    return None


def _value(
    param: Parameter,
    user_params: Mapping[str, str],
    project_dir: Path,
    cwd: Path,
    fetch: RemoteFetch | None,
    type_check: bool,
) -> tuple[str, str] | None:
    """(value to log, value for the command), or None when the parameter has no value."""
    if param.name in user_params:
        raw = user_params[param.name]
        if param.kind == "path":
            return raw, _existing_path(param, raw, cwd, fetch)
        reason = value_problem(param.kind, raw) if type_check else None
        if reason:
            raise ParamError(
                f"invalid value {raw!r} for {param.type} parameter '{param.name}': {reason}"
            )
        return raw, raw
    if param.default is None:
        return None
    text = str(param.default)  # as MLflow: True -> "True", [1, 2] -> "[1, 2]"
    if param.kind == "path":
        return text, _existing_path(param, text, project_dir, fetch)
    return text, text


def _existing_path(param: Parameter, value: str, base: Path, fetch: RemoteFetch | None) -> str:
    """The absolute local path a path value names; it must exist."""
    local = local_path(value)
    if local is None and fetch is not None:
        return fetch(param.name, value)
    if local is None:
        raise ParamError(
            f"cannot fetch {value!r} for path parameter '{param.name}': only "
            "local paths are supported",
            "download it and pass the local path, or declare the parameter `uri`",
        )
    path = os.path.abspath(os.path.join(base, local))
    if not os.path.exists(path):
        raise ParamError(
            f"Got value {value} for parameter {param.name}, but no such file or "
            f"directory was found ({path})"
        )
    return path
