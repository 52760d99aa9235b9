"""The conda manager: conda.yml -> a cached conda prefix, built with py-rattler (no conda needed),
or with the user's own conda/mamba/micromamba when asked for.

A fresh conda-lock.yml beside conda.yml is installed exactly, with no solve. A stale one is
warned about and conda.yml is solved instead (or, with --frozen, the run is refused).
Conda prefixes hold absolute paths (prefix replacement at link time), so they are built in
place, at their final cache path, under the cache's lock; the marker is written last.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import output
from mlproj.envs import cache
from mlproj.envs.base import EnvFacts, EnvOptions, EnvPatch
from mlproj.envs.buildlog import BuildLog
from mlproj.envs.conda import activation as conda_activation
from mlproj.envs.conda import lockfile as lockfiles
from mlproj.envs.conda import pip as conda_pip
from mlproj.envs.conda import solve as conda_solve
from mlproj.envs.conda.channels import resolve_channels
from mlproj.envs.conda.exe import CondaExe, find_conda_exe, run_exe
from mlproj.envs.local import PatchedEnv
from mlproj.envs.recorded import (
    CONDA_EXPLICIT,
    CONDA_LOCK,
    CONDA_PIP_FREEZE,
    CONDA_PIP_LOCK,
    ENV_ARTIFACT_DIR,
)
from mlproj.errors import EnvError
from mlproj.spec import CondaEnv, Project, load_conda_env

NAME = "conda"
RECORDS_DIR = ".mlproj"  # inside the prefix: what was installed, saved with every run
UNLOCKED = "unlocked.txt"  # why part of an environment has no lock (a --conda-exe build)
_SPEC_NAME = re.compile(r"^\s*(?:[^:\s]+::)?([A-Za-z0-9_.\-]+)\s*(.*)$")


@dataclass(frozen=True)
class CondaInputs:
    """Everything that shapes one conda environment, read before anything is built."""

    conda_file: Path
    env: CondaEnv
    platform: str
    channels: tuple[str, ...]  # base URLs, in priority order
    lock: lockfiles.LockStatus
    exe: CondaExe | None
    frozen: bool
    pip_lock: Path | None = None  # recorded pins of the pip: section (mlproj reproduce)

    @property
    def installer(self) -> str:
        if self.exe is not None:
            return f"{self.exe.flavor} {self.exe.path}"
        return f"rattler {conda_solve.rattler_version()}"

    def key_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "manager": NAME,
            "installer": self.installer,
            "platform": self.platform,
            "conda_file_sha256": _sha256(self.conda_file),
            "lockfile_sha256": _sha256(self.lock.path) if self.lock.used else None,
            "python": python_request(self.env),
            "channels": list(self.channels),
            "pip_index": conda_pip.index_key(self.env.pip) if self.env.pip else None,
        }
        if self.pip_lock is not None:  # only then: the keys of every other env stay as they were
            document["pip_lock_sha256"] = _sha256(self.pip_lock)
        return document

    @property
    def key(self) -> str:
        return cache.env_key(self.key_document())


def read_inputs(project: Project, options: EnvOptions) -> CondaInputs:
    conda_file = project.env.file
    if conda_file is None:
        raise EnvError(
            "this project declares no conda environment file",
            "add conda_env: conda.yml to the MLproject, or choose another --env-manager",
        )
    env = load_conda_env(conda_file)
    platform = conda_solve.current_platform()
    return CondaInputs(
        conda_file=conda_file,
        env=env,
        platform=platform,
        channels=resolve_channels(env.channels, conda_file.parent),
        lock=_lock(conda_file, platform, options),
        exe=find_conda_exe(options.conda_exe),
        frozen=options.frozen,
        pip_lock=_recorded_pip_lock(options),
    )


def _recorded_pip_lock(options: EnvOptions) -> Path | None:
    given = options.extra.get(conda_pip.EXTRA_PIP_LOCK)
    return Path(given) if given else None


def _lock(conda_file: Path, platform: str, options: EnvOptions) -> lockfiles.LockStatus:
    """A recorded lock given by `mlproj reproduce` is installed as it is; else the project's."""
    recorded = options.extra.get(lockfiles.EXTRA_LOCK)
    if recorded:
        return lockfiles.LockStatus(Path(recorded), "fresh")
    return lockfiles.lock_status(conda_file, platform)


def python_request(env: CondaEnv) -> str | None:
    """The version asked of `python` in the conda dependencies ("*" if unpinned), or None."""
    for spec in env.dependencies:
        match = _SPEC_NAME.match(spec)
        if match and match.group(1) == "python":
            return match.group(2).strip() or "*"
    return None


class CondaManager:
    name = NAME

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        inputs = read_inputs(project, options)
        _check_frozen(inputs)
        key = inputs.key
        return {
            "manager": NAME,
            "installer": inputs.installer,
            "key": key,
            "conda_file": str(inputs.conda_file),
            "lockfile": {
                "path": str(inputs.lock.path),
                "state": _lock_word(inputs.lock),
                "reason": inputs.lock.reason,
            },
            "platform": inputs.platform,
            "channels": list(inputs.channels),
            "pip_lock": str(inputs.pip_lock) if inputs.pip_lock else None,
            "cached": cache.is_ready(key, health),
            "path": str(cache.env_path(key)),
        }

    def prepare(self, project: Project, options: EnvOptions) -> PatchedEnv:
        inputs = read_inputs(project, options)
        _check_frozen(inputs)
        if inputs.lock.state == "stale":
            _warn(
                f"{inputs.lock.path} is stale ({inputs.lock.reason}); solving "
                f"{inputs.conda_file.name} instead (`mlproj lock` refreshes it)"
            )
        prefix = build_env(inputs)
        return prepared_env(prefix, inputs)


def build_env(inputs: CondaInputs) -> Path:
    """The ready prefix for `inputs`: reused from the cache, or built there once."""
    key = inputs.key
    meta = {
        "conda_file": str(inputs.conda_file),
        "installer": inputs.installer,
        "lockfile": _lock_word(inputs.lock),
        "platform": inputs.platform,
    }
    return cache.ensure_env(
        NAME,
        key,
        lambda prefix: _build(prefix, inputs, cache.log_path(key)),
        health=health,
        meta=meta,
        relocatable=False,
        on_wait=lambda: output.note(f"conda: waiting for another process building {key[:12]}"),
    )


def health(prefix: Path) -> bool:
    """Cheap: the package records are there, and the interpreter (if any) still resolves."""
    if not (prefix / "conda-meta").is_dir():
        return False
    if not (prefix / RECORDS_DIR / CONDA_EXPLICIT).is_file():
        return False
    python = prefix / "bin" / "python"
    return os.path.exists(python) or not python.is_symlink()


def prepared_env(prefix: Path, inputs: CondaInputs) -> PatchedEnv:
    records = prefix / RECORDS_DIR
    lock_copy = records / CONDA_LOCK
    recorded = lock_copy if lock_copy.is_file() else records / CONDA_EXPLICIT
    artifacts = [(records / CONDA_EXPLICIT, ENV_ARTIFACT_DIR)]
    artifacts += [
        (records / name, ENV_ARTIFACT_DIR)
        for name in (CONDA_LOCK, CONDA_PIP_FREEZE, CONDA_PIP_LOCK)
        if (records / name).is_file()
    ]
    details = {
        "lock_sha256": _sha256(recorded),
        "installer": inputs.installer,
        "lockfile": _lock_word(inputs.lock),
    }
    if (records / UNLOCKED).is_file():
        details["unlocked"] = (records / UNLOCKED).read_text(encoding="utf-8").strip()
    facts = EnvFacts(manager=NAME, project_env="conda", key=inputs.key, details=details)
    patch = EnvPatch(
        set_vars={
            **conda_activation.env_vars(prefix),
            "CONDA_PREFIX": str(prefix),
            "CONDA_DEFAULT_ENV": str(prefix),
        },
        path_prepend=(str(prefix / "bin"),),
        unset_vars=("PYTHONHOME", "VIRTUAL_ENV"),
    )
    return PatchedEnv(patch, facts, artifacts=tuple(artifacts))


# -- building ------------------------------------------------------------------------------


def _build(prefix: Path, inputs: CondaInputs, log: Path) -> None:
    with BuildLog(log, "conda") as reporter:
        reporter.detail(
            f"conda file {inputs.conda_file}; installer {inputs.installer}; "
            f"platform {inputs.platform}; lockfile {_lock_word(inputs.lock)}"
        )
        solved: list[Any] = []
        if inputs.exe is not None:
            _build_with_exe(prefix, inputs, inputs.exe, reporter)
        else:
            solved = _build_with_rattler(prefix, inputs, reporter)
        reporter.step("recording installed packages")
        _write_records(prefix, inputs)
        if solved:  # what was solved, as a lock a reproduction installs without solving
            lockfiles.write_lock_copy(
                inputs.conda_file,
                lockfiles.PlatformLock(inputs.platform, tuple(solved)),
                prefix / RECORDS_DIR / CONDA_LOCK,
            )
        elif inputs.exe is not None and not inputs.lock.used:
            _lock_what_the_exe_installed(prefix, inputs, reporter)
        scripts = [path.name for path in conda_activation.activation_scripts(prefix)]
        if scripts:
            reporter.detail(f"activation scripts not run: {scripts}")
    if scripts:  # said once the step line is gone
        _warn(
            f"the conda environment has activation scripts that mlproj does not run "
            f"({', '.join(scripts)}); variables they would set are missing unless the package "
            "also declares them in etc/conda/env_vars.d"
        )


def _build_with_rattler(prefix: Path, inputs: CondaInputs, reporter: BuildLog) -> list[Any]:
    """Install; the solved records when there was a solve (none when a lock was installed)."""
    solved = not inputs.lock.used
    if inputs.lock.used:
        reporter.step(f"reading {inputs.lock.path.name} (no solve)")
        records = lockfiles.locked_conda_records(inputs.lock.path, inputs.platform)
    else:
        reporter.step(f"solving {inputs.conda_file.name}")
        records = conda_solve.solve(
            inputs.channels,
            inputs.env.dependencies,
            inputs.platform,
            virtual="detect",
            reporter=reporter,
            what=str(inputs.conda_file),
        )
    reporter.step(f"installing {len(records)} packages")
    conda_solve.install(records, prefix, reporter)
    # conda env create keeps conda.yml's `variables:` in conda-meta/state; so do we
    conda_activation.write_state_vars(
        prefix, conda_activation.conda_file_variables(inputs.conda_file)
    )
    _install_pip(prefix, inputs, reporter)
    return list(records) if solved else []


def _build_with_exe(prefix: Path, inputs: CondaInputs, exe: CondaExe, reporter: BuildLog) -> None:
    prefix.rmdir()  # conda and micromamba create the prefix themselves
    if not inputs.lock.used:
        reporter.step(f"{exe.flavor} creating the environment")
        run_exe(exe.create_argv(prefix, inputs.conda_file), reporter, "create the environment")
        return  # conda ran the pip: section itself
    with tempfile.TemporaryDirectory(prefix="mlproj-explicit-") as tmp:
        explicit = Path(tmp) / "explicit.txt"
        explicit.write_text(
            lockfiles.locked_explicit(inputs.lock.path, inputs.platform), encoding="utf-8"
        )
        reporter.step(f"{exe.flavor} installing from {inputs.lock.path.name}")
        run_exe(exe.explicit_argv(prefix, explicit), reporter, "install the locked packages")
    _install_pip(prefix, inputs, reporter)


def _lock_what_the_exe_installed(prefix: Path, inputs: CondaInputs, reporter: BuildLog) -> None:
    """conda/mamba/micromamba solved: the lock is read back from the prefix's package records
    (no tool's export command needed). What cannot be locked is said in UNLOCKED, and each run
    records it as `mlproj.env.unlocked` (`runs show` prints it)."""
    records = prefix / RECORDS_DIR
    why = []
    try:
        installed = lockfiles.installed_records(prefix)
        lockfiles.write_lock_copy(
            inputs.conda_file,
            lockfiles.PlatformLock(inputs.platform, tuple(installed)),
            records / CONDA_LOCK,
        )
    except EnvError as exc:
        reporter.detail(f"no conda-lock.yml of the environment: {exc.one_line()}")
        why.append(f"its conda packages could not be locked ({exc.message})")
    if inputs.env.pip:
        why.append(
            f"{inputs.exe.flavor if inputs.exe else 'conda'} installed the pip: section, "
            "whose packages are recorded unpinned (pip-freeze.txt)"
        )
    if why:
        (records / UNLOCKED).write_text("; ".join(why) + "\n", encoding="utf-8")


def _install_pip(prefix: Path, inputs: CondaInputs, reporter: BuildLog) -> None:
    pins = lockfiles.locked_pip_pins(inputs.lock.path, inputs.platform) if inputs.lock.used else []
    if not pins and not inputs.env.pip:
        return
    python = prefix / "bin" / "python"
    if not python.exists():
        raise EnvError(
            f"{inputs.conda_file}: the pip: section needs python in the environment",
            "add `- python=3.11` (or your version) to dependencies",
        )
    records = prefix / RECORDS_DIR
    if pins:
        reporter.step(f"pip install ({len(pins)} locked packages)")
        conda_pip.pip_install_locked(python, pins, reporter=reporter)
    elif inputs.pip_lock is not None:
        count = conda_pip.count_lock_pins(inputs.pip_lock)
        reporter.step(f"pip install ({count} recorded pins, no resolution)")
        conda_pip.pip_install_lockfile(
            python,
            inputs.pip_lock,
            inputs.env.pip,
            cwd=inputs.conda_file.parent,
            reporter=reporter,
        )
        records.mkdir(exist_ok=True)
        shutil.copyfile(inputs.pip_lock, records / CONDA_PIP_LOCK)
    else:
        before = conda_pip.installed_lines(python)
        reporter.step(f"pip install ({len(inputs.env.pip)} requirements)")
        conda_pip.pip_install(
            python, inputs.env.pip, cwd=inputs.conda_file.parent, reporter=reporter
        )
        reporter.step("recording the pip packages")
        conda_pip.write_pip_lock(
            python,
            before,
            inputs.env.pip,
            records / CONDA_PIP_LOCK,
            cwd=inputs.conda_file.parent,
            reporter=reporter,
        )


def _write_records(prefix: Path, inputs: CondaInputs) -> None:
    records = prefix / RECORDS_DIR
    records.mkdir(exist_ok=True)
    (records / CONDA_EXPLICIT).write_text(conda_solve.installed_explicit(prefix), encoding="utf-8")
    if inputs.lock.used:
        shutil.copyfile(inputs.lock.path, records / CONDA_LOCK)
    python = prefix / "bin" / "python"
    if python.exists() and (inputs.env.pip or inputs.lock.used):
        frozen = conda_pip.pip_freeze(python)
        if frozen.strip():
            (records / CONDA_PIP_FREEZE).write_text(frozen, encoding="utf-8")


# -- helpers -------------------------------------------------------------------------------


def _check_frozen(inputs: CondaInputs) -> None:
    if not inputs.frozen or inputs.lock.used:
        return
    why = "is missing" if inputs.lock.state == "absent" else f"is stale: {inputs.lock.reason}"
    raise EnvError(
        f"--frozen: {inputs.lock.path} {why}",
        f"run `mlproj lock {inputs.conda_file.parent}` to refresh it, or drop --frozen",
    )


def _lock_word(status: lockfiles.LockStatus) -> str:
    return "used" if status.used else status.state


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _warn(message: str) -> None:
    output.warning(message)


MANAGER = CondaManager()
