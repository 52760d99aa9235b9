"""conda-lock.yml files: write them from rattler solves, tell fresh from stale, read them back.

The file format and the freshness rule are conda-lock's own (its lockfile models, its content
hash of conda.yml per platform), so a lock written here is read by `conda-lock install`, and a
lock written by conda-lock is installed here. Solving is rattler's; conda-lock never runs conda.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from mlproj.envs.buildlog import BuildLog
from mlproj.envs.conda import lockhash
from mlproj.envs.conda import pip as conda_pip
from mlproj.envs.conda import solve as conda_solve
from mlproj.envs.conda.channels import resolve_channels
from mlproj.envs.conda.pip import PipPin
from mlproj.errors import EnvError
from mlproj.paths import build_logs_dir

if TYPE_CHECKING:
    from rattler import RepoDataRecord

LOCKFILE_NAME = "conda-lock.yml"
EXTRA_LOCK = "conda_lock"  # EnvOptions.extra key: a recorded lock to install (`mlproj reproduce`)
_CONDA_FILE_NAMES = ("conda.yml", "conda.yaml", "environment.yml", "environment.yaml")
LockState = Literal["absent", "fresh", "stale"]
_NAME = re.compile(r"^([A-Za-z0-9_.\-]+)\s*(.*)$")


@dataclass(frozen=True)
class LockStatus:
    path: Path
    state: LockState
    reason: str = ""  # why it is stale

    @property
    def used(self) -> bool:
        return self.state == "fresh"


@dataclass(frozen=True)
class PlatformLock:
    platform: str
    conda: tuple[Any, ...]  # rattler RepoDataRecords
    pip: tuple[PipPin, ...] = ()


@dataclass(frozen=True)
class LockResult:
    path: Path
    platforms: tuple[PlatformLock, ...]


def lockfile_for(conda_file: Path) -> Path:
    return conda_file.parent / LOCKFILE_NAME


def lock_status(conda_file: Path, platform: str) -> LockStatus:
    """Whether conda-lock.yml beside `conda_file` matches it for `platform` (conda-lock's rule)."""
    path = lockfile_for(conda_file)
    if not path.is_file():
        return LockStatus(path, "absent")
    meta = _read_metadata(path)
    hashes = meta.get("content_hash") or {}
    if platform not in (meta.get("platforms") or []) or platform not in hashes:
        return LockStatus(path, "stale", f"it does not cover platform {platform}")
    custom = meta.get("custom_metadata") or {}
    # the same bytes as when mlproj locked it: fresh, without loading conda-lock at all
    same_bytes = custom.get(lockhash.SOURCE_KEY) == lockhash.source_digest(conda_file)
    if not same_bytes and hashes[platform] not in lockhash.accepted_hashes(conda_file, platform):
        return LockStatus(path, "stale", f"{conda_file.name} changed since it was locked")
    if custom.get(lockhash.PIP_OPTIONS_KEY) != lockhash.pip_options_digest(conda_file):
        return LockStatus(path, "stale", f"the pip options of {conda_file.name} changed")
    return LockStatus(path, "fresh")


def lock_platforms(path: Path) -> list[str]:
    """The platforms a lock file covers (read as plain YAML, without conda-lock)."""
    return [str(p) for p in _read_metadata(path).get("platforms") or []]


def locked_conda_records(lockfile: Path, platform: str) -> list[RepoDataRecord]:
    """The lock's conda packages for `platform`, as records rattler installs without solving."""
    env, owned = _rattler_lock(lockfile, platform)
    return list(env.conda_repodata_records_for_platform(owned) or [])


def locked_pip_pins(lockfile: Path, platform: str) -> list[PipPin]:
    """The lock's pip packages for `platform`: each an exact file URL with its sha256."""
    env, owned = _rattler_lock(lockfile, platform)
    pins = []
    for package in env.pypi_packages_for_platform(owned) or []:
        hashes = package.hashes
        sha256 = hashes.sha256.hex() if hashes is not None and hashes.sha256 else None
        pins.append(PipPin(package.name, str(package.version), package.location, sha256))
    return pins


def locked_explicit(lockfile: Path, platform: str) -> str:
    """The lock's conda packages for `platform` as an `@EXPLICIT` list (url#md5, conda's form)."""
    lines = [f"# platform: {platform}", "@EXPLICIT"]
    for record in locked_conda_records(lockfile, platform):
        md5 = record.md5
        lines.append(f"{record.url}#{md5.hex()}" if md5 else record.url)
    return "\n".join(lines) + "\n"


def _rattler_lock(lockfile: Path, platform: str) -> tuple[Any, Any]:
    """rattler's view of the lock (it reads conda-lock files) and its own `platform` object."""
    import rattler

    try:
        env = rattler.LockFile.from_path(lockfile).default_environment()
    except Exception as exc:  # rattler's ParseCondaLockError
        raise EnvError(
            f"{lockfile}: cannot read it: {exc}", "run `mlproj lock` to rewrite it"
        ) from None
    owned = next((p for p in env.platforms() if p.name == platform), None) if env else None
    if env is None or owned is None:
        raise EnvError(f"{lockfile} has no packages for {platform}", "run `mlproj lock`")
    return env, owned


def lock_project(path: Path, platforms: Sequence[str] = ()) -> LockResult:
    """`mlproj lock`: lock the conda file of a project dir (or a conda.yml given directly).

    Default platforms: this machine's, plus every platform the existing lock already covers
    (a changed conda.yml makes all of them stale).
    """
    conda_file = find_conda_file(path)
    wanted = list(dict.fromkeys(platforms)) or _default_platforms(conda_file)
    for platform in wanted:
        _check_platform(platform)
    digest = hashlib.sha256(str(conda_file).encode()).hexdigest()[:16]
    log = build_logs_dir() / f"conda-lock-{digest}.log"
    log.write_text(f"# mlproj lock {conda_file} for {wanted}\n", encoding="utf-8")
    with BuildLog(log, "lock") as reporter:
        return lock_conda_file(conda_file, wanted, reporter)


def find_conda_file(path: Path) -> Path:
    """The conda file of a project directory (its MLproject's conda_env), or `path` itself."""
    path = path.expanduser().resolve()
    if path.is_file():
        return path
    if not path.is_dir():
        raise EnvError(f"{path}: no such file or directory", "give a project dir or a conda.yml")
    from mlproj.spec.mlproject import find_mlproject, load_project

    mlproject = find_mlproject(path)
    if mlproject is not None:
        env = load_project(path).env
        if env.kind == "conda" and env.file is not None:
            return Path(env.file)
        raise EnvError(
            f"{mlproject} declares no conda environment",
            "only conda environments have conda-lock files",
        )
    for name in _CONDA_FILE_NAMES:
        if (path / name).is_file():
            return path / name
    raise EnvError(f"{path}: no conda.yml here", f"give the file, or one of {_CONDA_FILE_NAMES}")


def _default_platforms(conda_file: Path) -> list[str]:
    wanted = [conda_solve.current_platform()]
    existing = lockfile_for(conda_file)
    if existing.is_file():
        with contextlib.suppress(EnvError):  # an unreadable lock is simply rewritten
            locked = _read_metadata(existing).get("platforms") or []
            wanted += [str(p) for p in locked if p not in wanted]
    return wanted


def _check_platform(platform: str) -> None:
    from rattler.platform import Subdir

    try:
        Subdir(cast(Any, platform))
    except Exception:
        raise EnvError(
            f"unknown conda platform {platform!r}",
            "use a conda subdir such as linux-64, osx-arm64 or win-64",
        ) from None


def lock_conda_file(conda_file: Path, platforms: Sequence[str], reporter: BuildLog) -> LockResult:
    """Solve `conda_file` for each platform with rattler and write conda-lock.yml beside it."""
    from mlproj.spec import load_conda_env

    env = load_conda_env(conda_file)
    channels = resolve_channels(env.channels, conda_file.parent)
    solved = []
    for platform in platforms:
        reporter.step(f"solving for {platform}")
        records = conda_solve.solve(
            channels,
            env.dependencies,
            platform,
            virtual="lock",
            reporter=reporter,
            what=conda_file.name,
        )
        pins: list[PipPin] = []
        if env.pip:
            reporter.step(f"resolving pip packages for {platform}")
            pins = conda_pip.pip_compile(
                env.pip,
                cwd=conda_file.parent,
                python_version=_python_version(records, conda_file),
                platform=platform,
                reporter=reporter,
            )
        solved.append(PlatformLock(platform, tuple(records), tuple(pins)))
    path = write_lockfile(conda_file, solved)
    return LockResult(path, tuple(solved))


def write_lockfile(conda_file: Path, solved: Sequence[PlatformLock]) -> Path:
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import Lockfile, LockMeta

    platforms = [lock.platform for lock in solved]
    spec = lockhash.lock_spec(conda_file, platforms)
    meta = LockMeta(
        content_hash=lockhash.content_hashes(spec),
        channels=list(spec.channels),
        platforms=platforms,
        sources=[conda_file.name],
        custom_metadata=lockhash.custom_metadata(conda_file),
    )
    for platform in platforms:
        lockhash.accepted_hashes(conda_file, platform)  # remembered: the next run skips conda-lock
    packages = [dep for lock in solved for dep in _locked_dependencies(lock)]
    path = lockfile_for(conda_file)
    with tempfile.TemporaryDirectory(prefix="mlproj-lock-") as scratch:
        draft = Path(scratch) / path.name  # the file names itself in its help text
        # no time stamp or git metadata: the same solve writes the same bytes
        write_conda_lock_file(
            Lockfile(package=packages, metadata=meta), draft, metadata_choices=set()
        )
        text = draft.read_bytes()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text)
    tmp.replace(path)
    return path


def write_lock_copy(conda_file: Path, solved: PlatformLock, dest: Path) -> Path:
    """A conda-lock.yml of `solved` at `dest` (not beside `conda_file`): what a run installed."""
    import shutil

    with tempfile.TemporaryDirectory(prefix="mlproj-lockcopy-") as scratch:
        copy = Path(scratch) / conda_file.name
        shutil.copyfile(conda_file, copy)
        shutil.move(write_lockfile(copy, [solved]), dest)
    return dest


def installed_records(prefix: Path) -> list[Any]:
    """The packages `conda-meta/` says are in `prefix` (whichever tool installed them: conda,
    mamba and micromamba write the same records as rattler), for a lock of what is there."""
    import rattler

    records = []
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            records.append(rattler.PrefixRecord.from_path(meta))
        except Exception as exc:  # rattler's parse errors
            raise EnvError(f"{meta}: not a conda package record: {exc}") from None
    return records


def _locked_dependencies(lock: PlatformLock) -> list[Any]:
    from conda_lock.lockfile.v2prelim.models import HashModel, LockedDependency

    deps = []
    for record in lock.conda:
        md5, sha256 = record.md5, record.sha256
        if md5 is None:
            raise EnvError(
                f"cannot lock {record.name.normalized}: its channel gives no md5",
                "conda-lock files need an md5 for every conda package",
            )
        deps.append(
            LockedDependency(
                name=record.name.normalized,
                version=str(record.version),
                manager="conda",
                platform=lock.platform,
                dependencies=_dependency_map(record.depends),
                url=record.url,
                hash=HashModel(md5=md5.hex(), sha256=sha256.hex() if sha256 else None),
                build=str(record.build),
                categories={"main"},
            )
        )
    for pin in lock.pip:
        deps.append(
            LockedDependency(
                name=pin.name,
                version=pin.version,
                manager="pip",
                platform=lock.platform,
                dependencies={},
                url=pin.url,
                hash=HashModel(sha256=pin.sha256),
                categories={"main"},
            )
        )
    return deps


def _dependency_map(depends: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for spec in depends:
        match = _NAME.match(spec.strip())
        if match:
            result[match.group(1)] = match.group(2).strip() or "*"
    return result


def _python_version(records: Sequence[Any], conda_file: Path) -> str:
    for record in records:
        if record.name.normalized == "python":
            return str(record.version)
    raise EnvError(
        f"{conda_file}: a pip: section needs python among the conda dependencies",
        "add `- python=3.11` (or your version) to dependencies",
    )


def _read_metadata(path: Path) -> dict[str, Any]:
    """The lock's `metadata` mapping, read as plain YAML (conda-lock's import is slow)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_bytes(), Loader=loader)
    except (OSError, yaml.YAMLError) as exc:
        raise EnvError(
            f"{path}: not a valid conda-lock file: {str(exc).splitlines()[0]}",
            "run `mlproj lock` to rewrite it",
        ) from None
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict) or data.get("version") not in (1, 2):
        raise EnvError(
            f"{path}: not a conda-lock file (no version 1/2 metadata)",
            "run `mlproj lock` to rewrite it",
        )
    return meta
