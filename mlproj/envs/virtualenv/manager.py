"""The virtualenv manager (MLflow's `virtualenv` and `uv`): python_env.yaml built with uv.

Environments are cached by a key over everything that shapes them (see `_key_document`) and
built once under a lock (envs/cache.py). uv makes them relocatable (`uv venv --relocatable`:
scripts find their interpreter relative to themselves), so a build happens in a temp dir and is
renamed into place: an interrupted build never sits where a ready env would.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import output
from mlproj._util.both import run_both
from mlproj.envs import cache
from mlproj.envs.base import EnvFacts, EnvOptions, EnvPatch
from mlproj.envs.buildlog import BuildLog
from mlproj.envs.local import PatchedEnv
from mlproj.envs.recorded import ENV_ARTIFACT_DIR, VENV_FROZEN, VENV_HASHED
from mlproj.envs.virtualenv import pipconf, pythons
from mlproj.envs.virtualenv.lock import (
    LOCK_NAME,
    VenvLock,
    compile_command,
    count_pins,
    find_lock,
    frozen_pins,
    has_hashes,
)
from mlproj.envs.virtualenv.request import VenvRequest, load_request
from mlproj.envs.virtualenv.requirements import (
    ReferencedFile,
    all_lines,
    count_requirements,
    file_option,
    referenced_files,
    rewrite,
    sets_index,
    source_options,
)
from mlproj.errors import EnvError
from mlproj.spec.model import Project

NAME = "virtualenv"
STATE_DIR = ".mlproj"  # inside the env: the requirement files it was built from, the freeze
REQUESTED = "requirements.txt"  # the requirement lines as given (-r/-c paths made absolute)
SOURCES = "sources.txt"  # the index options of the requirement lines, for installing the lock
_KEY_SCHEMA = 1


@dataclass(frozen=True)
class VenvPlan:
    """Everything resolved about an env, before (or without) building it."""

    request: VenvRequest
    interpreter: pythons.Interpreter
    uv: str
    uv_version: str
    index: pipconf.UvIndexSettings
    files: tuple[ReferencedFile, ...]
    key: str
    lock: VenvLock | None = None  # pinned requirements installed as they are (lock.py)


def resolve(
    project: Project, extra: Mapping[str, Any] | None = None, *, install_python: bool = True
) -> VenvPlan:
    """Read the env files, find (or install) the interpreter and the index settings, compute
    the key. Raises pythons.PythonMissing when no interpreter matches and none was installed."""
    request = load_request(project)
    locked = find_lock(request.env_file, request.project_dir, dict(extra or {}))
    if locked is not None and locked.python and locked.origin == "recorded":
        request = dataclasses.replace(request, python=locked.python)  # the exact interpreter
    uv = uv_binary()
    origin = str(request.env_file or project.directory)
    lines = [*request.build_dependencies, *request.dependencies]
    files = tuple(referenced_files(lines, request.project_dir, origin))
    index = pipconf.uv_settings(
        pipconf.read_pip_config(), project_sets_index=sets_index(all_lines(lines, files))
    )
    install = install_python and pythons.downloads_allowed()
    interpreter = pythons.find(request.python, uv, install=install)
    version = uv_version()
    doc = _key_document(request, interpreter, version, index, files)
    doc["lock_sha256"] = locked.sha256 if locked else None
    return VenvPlan(request, interpreter, uv, version, index, files, cache.env_key(doc), locked)


def _key_document(
    request: VenvRequest,
    interpreter: pythons.Interpreter,
    uv_version: str,
    index: pipconf.UvIndexSettings,
    files: tuple[ReferencedFile, ...],
) -> dict[str, Any]:
    env_file = None
    if request.env_file is not None:
        data = request.env_file.read_bytes()
        env_file = {"source": request.source, "sha256": hashlib.sha256(data).hexdigest()}
    shaping = {k: v for k, v in index.env.items() if k != "SSL_CERT_FILE"}
    constraints = [c for c in shaping.get("UV_CONSTRAINT", "").split() if c]
    return {
        "schema": _KEY_SCHEMA,
        "manager": NAME,
        "uv": uv_version,
        "platform": {"sys": sys.platform, "machine": platform.machine()},
        "python": {"request": request.python, "version": interpreter.version},
        "env_file": env_file,
        "files": sorted(
            [f.option, _key_path(f.path, request.project_dir), f.sha256] for f in files
        ),
        "index": {
            "translated": shaping,
            "args": list(index.args),
            "user": pipconf.user_uv_settings(),
            "constraint_files": {c: _file_sha(c) for c in constraints},
        },
    }


def _key_path(path: Path, project_dir: Path) -> str:
    """Project files by their place in the project: a fresh checkout reuses the same env."""
    try:
        return path.relative_to(project_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def _file_sha(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        raise EnvError(
            "the virtualenv manager needs uv, which is not installed", "pip install uv"
        ) from None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        raise EnvError(
            "the uv package is installed but its binary is missing",
            "pip install --force-reinstall uv",
        ) from None


def uv_version() -> str:
    """The version of the uv package, which ships the binary of the same version.

    Read from the name of its dist-info directory beside the package: importlib.metadata,
    the fallback, costs more than 10 ms per run to import and to scan every sys.path entry.
    """
    try:
        import uv
    except ImportError:
        return "unknown"
    found = list(Path(uv.__file__).parent.parent.glob("uv-*.dist-info"))
    if len(found) == 1:
        return found[0].name[len("uv-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uv")
    except PackageNotFoundError:
        return "unknown"


def healthy(path: Path) -> bool:
    """Cheap (runs on every reuse): the venv config is there and its interpreter still exists."""
    return (path / "pyvenv.cfg").is_file() and os.path.exists(path / "bin" / "python")


# -- building ------------------------------------------------------------------------------


def uv_env(plan: VenvPlan) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)  # the target is always given with --python
    env.pop("UV_NO_VERIFY_HASHES", None)  # would clash with the install's --verify-hashes
    env.update(plan.index.env)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def _builder(plan: VenvPlan, progress: output.Progress) -> Callable[[Path], None]:
    def build(dest: Path) -> None:
        with BuildLog(cache.log_path(plan.key), NAME, progress=progress) as log:
            _build(plan, dest, log)

    return build


def _build(plan: VenvPlan, dest: Path, log: BuildLog) -> None:
    """`uv venv`, then the lock installed as it is (`--no-deps`): a project's or a recorded
    lock, else one resolved here with hashes (`uv pip compile`) while the venv is created."""
    req = plan.request
    env = uv_env(plan)
    log.detail(
        f"env file: {req.env_file or '(none)'}; python {plan.interpreter.version} "
        f"({plan.interpreter.path}); uv {plan.uv_version}"
    )
    log.detail(f"index settings: {plan.index.describe()}")
    lines = rewrite([*req.build_dependencies, *req.dependencies], req.project_dir)
    lock, hashed = _create_and_lock(plan, dest, lines, env, log)
    state = dest / STATE_DIR
    state.mkdir()
    if lines:
        (state / REQUESTED).write_text("\n".join(lines) + "\n", encoding="utf-8")
    if hashed is not None:
        (state / VENV_HASHED).write_text(hashed, encoding="utf-8")
    if plan.lock is not None:
        locked = state / LOCK_NAME
        locked.write_text(lock, encoding="utf-8")
    else:
        locked = state / VENV_HASHED
    python = str(dest / "bin" / "python")
    count = count_pins(lock)
    if count:
        log.step(f"installing {count} locked package{'' if count == 1 else 's'}")
        # bytecode now, or every run recompiles (e.g. torch: seconds per start); the lock's
        # hashes checked whatever the user's uv settings say: the run records the lock as
        # what was installed
        install = [plan.uv, "pip", "install", "--compile-bytecode", "--no-deps", "--verify-hashes"]
        install += ["--python", python, *plan.index.args]
        requested = [f for f in plan.files if f.option == "-r"]
        sources = source_options(all_lines(lines, requested))
        if sources:  # the index options of the requirement lines, which the lock leaves out
            (state / SOURCES).write_text("\n".join(sources) + "\n", encoding="utf-8")
            install += ["-r", str(state / SOURCES)]
        log.run(
            [*install, "-r", str(locked)],
            what=f"installing the locked packages of {_origin(req, plan.lock)}",
            env=env,
            cwd=req.project_dir,
        )
    (state / VENV_FROZEN).write_text(_frozen(lock, plan.uv, python, env, log), encoding="utf-8")


def _create_and_lock(
    plan: VenvPlan, dest: Path, lines: list[str], env: dict[str, str], log: BuildLog
) -> tuple[str, str | None]:
    """Create the venv at `dest`; the lock to install and the hashed lock to record (None:
    none, see `_record_again`)."""
    venv = [plan.uv, "venv", str(dest), "--relocatable", "--no-project"]
    venv += ["--python", plan.interpreter.path]

    def create() -> None:
        log.run(venv, what="uv venv", env=env, cwd=dest.parent)

    creating = f"creating virtualenv (python {plan.interpreter.version})"
    if plan.lock is not None:
        log.step(creating)
        create()
        lock = plan.lock.path.read_text(encoding="utf-8")
        log.detail(
            f"installing {count_pins(lock)} locked packages from {plan.lock.path} "
            f"({plan.lock.origin} lock; no dependency resolution)"
        )
        return lock, _record_again(plan.lock, lock)
    if not count_requirements(lines) and not any(file_option(line) for line in lines):
        log.step(creating)
        create()
        return "", ""
    log.step(f"{creating}; resolving {_describe_lines(plan.request)}")
    lock = run_both(create, lambda: _resolve_lock(plan, lines, env, log))[1]
    return lock, lock


def _record_again(given: VenvLock, lock: str) -> str | None:
    """The hashed lock a run installed from a given lock records. A project's (`mlproj pack`
    wrote it with hashes): as it is. A recorded one (`mlproj reproduce`): the original's
    requirements.lock.txt again, whose hashes the install checked (`--verify-hashes`), so that
    `runs diff` compares the files of both runs; an older run's freeze, which has no hashes,
    is not recorded twice: a hashed lock without hashes would claim checks that never ran."""
    if given.origin == "project" or has_hashes(lock):
        return lock
    return None


def _resolve_lock(plan: VenvPlan, lines: list[str], env: dict[str, str], log: BuildLog) -> str:
    """The requirement lines pinned for this interpreter, each pin with its sha256 hashes from
    the index (`environment/requirements.lock.txt`: `mlproj reproduce` installs it). Build
    dependencies are resolved with the dependencies, into one consistent set."""
    target = ["--python", plan.interpreter.path]
    argv = compile_command(plan.uv, target, plan.index.args, "-")
    return log.run(
        argv,
        what=f"resolving the requirements of {_origin(plan.request)}",
        env=env,
        cwd=plan.request.project_dir,
        input="\n".join(lines) + "\n",
    )


def _frozen(lock: str, uv: str, python: str, env: dict[str, str], log: BuildLog) -> str:
    """The env's `uv pip freeze`: read off the lock it was built from when that holds plain
    pins only (the --no-deps install put exactly those into an empty venv), else asked of uv."""
    seeded = env.get("UV_VENV_SEED", "").lower() not in ("", "0", "false", "no", "off")
    pins = None if seeded else frozen_pins(lock)  # a seeded venv holds pip besides the lock
    if pins is not None:
        return pins
    return log.run([uv, "pip", "freeze", "--python", python], what="uv pip freeze", env=env)


def _describe_lines(req: VenvRequest) -> str:
    """ "3 requirements", "1 requirement + requirements.txt" (for the progress line)."""
    lines = [*req.build_dependencies, *req.dependencies]
    count = count_requirements(lines)
    text = f"{count} requirement{'' if count == 1 else 's'}"
    files = [target for target in (file_option(line) for line in lines) if target]
    if files:
        names = ", ".join(Path(t).name for _, t in files)
        text = f"{text} + {names}" if count else names
    return text


def _origin(req: VenvRequest, lock: VenvLock | None = None) -> str:
    if lock is not None:
        return str(lock.path)
    return str(req.env_file) if req.env_file else str(req.project_dir)


def build_or_reuse(plan: VenvPlan, progress: output.Progress | None = None) -> Path:
    """The ready env dir of `plan`, built if needed (once, even with concurrent callers)."""
    shown = progress or output.Progress(NAME)
    for warning in plan.request.warnings:
        output.warning(warning)
    meta = {
        "python": plan.interpreter.version,
        "python_request": plan.request.python,
        "env_file": str(plan.request.env_file) if plan.request.env_file else None,
        "project": str(plan.request.project_dir),
        "uv": plan.uv_version,
    }
    return cache.ensure_env(
        NAME,
        plan.key,
        _builder(plan, shown),
        health=healthy,
        meta=meta,
        relocatable=True,
        on_wait=lambda: output.note("another mlproj is building this environment; waiting ..."),
    )


def prepared_env(plan: VenvPlan, path: Path) -> PatchedEnv:
    frozen = path / STATE_DIR / VENV_FROZEN
    try:
        lock_sha = hashlib.sha256(frozen.read_bytes()).hexdigest()
    except OSError:
        lock_sha = ""
    details = {"python": plan.interpreter.version}
    if lock_sha:
        details["lock_sha256"] = lock_sha
    details["lockfile"] = plan.lock.origin if plan.lock else "none"
    facts = EnvFacts(manager=NAME, project_env=NAME, key=plan.key, details=details)
    patch = EnvPatch(
        set_vars={"VIRTUAL_ENV": str(path)},
        path_prepend=(str(path / "bin"),),
        unset_vars=("PYTHONHOME",),
    )
    artifacts = [(frozen, ENV_ARTIFACT_DIR)] if lock_sha else []
    hashed = path / STATE_DIR / VENV_HASHED
    if lock_sha and hashed.is_file():
        artifacts.append((hashed, ENV_ARTIFACT_DIR))
    return PatchedEnv(patch, facts, artifacts=artifacts)


def _plan_without_python(
    project: Project, options: EnvOptions, missing: pythons.PythonMissing
) -> dict[str, Any]:
    """What a dry run shows when the interpreter is not there yet: that one would be
    installed (and how), or that the run would fail because downloads are off."""
    request = load_request(project)
    allowed = options.python_downloads and pythons.downloads_allowed()
    return {
        "manager": NAME,
        "env_file": str(request.env_file) if request.env_file else None,
        "source": request.source,
        "python_request": request.python,
        "python": None,
        "interpreter": None,
        "found": missing.found,
        "python_install": (
            f"would be installed with: {missing.commands[0]}"
            if allowed
            else f"downloads are off; the run fails unless you run: {missing.commands[0]}"
        ),
        "cached": False,
        "warnings": list(request.warnings),
    }


class VirtualenvManager:
    name = NAME

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        try:
            plan = resolve(
                project, options.extra, install_python=False
            )  # a dry run installs nothing
        except pythons.PythonMissing as missing:
            return _plan_without_python(project, options, missing)
        return {
            "manager": NAME,
            "key": plan.key,
            "env_file": str(plan.request.env_file) if plan.request.env_file else None,
            "source": plan.request.source,
            "python_request": plan.request.python,
            "python": plan.interpreter.version,
            "interpreter": plan.interpreter.path,
            "cached": cache.is_ready(plan.key, healthy),
            "path": str(cache.env_path(plan.key)),
            "build_log": str(cache.log_path(plan.key)),
            "index": plan.index.describe(),
            "warnings": list(plan.request.warnings),
            "lock": str(plan.lock.path) if plan.lock else None,
        }

    def prepare(self, project: Project, options: EnvOptions) -> PatchedEnv:
        plan = resolve(project, options.extra, install_python=options.python_downloads)
        return prepared_env(plan, build_or_reuse(plan))


MANAGER = VirtualenvManager()
