"""Solve and install conda packages with py-rattler (no conda needed).

rattler's calls are async; each public function here runs one of them to completion. Errors come
back as EnvError with the solver's own words (it names the package it could not satisfy).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from mlproj.envs.buildlog import BuildLog
from mlproj.envs.conda.reach import unreachable
from mlproj.errors import EnvError
from mlproj.output import human_size
from mlproj.paths import conda_dir

if TYPE_CHECKING:
    from rattler import RepoDataRecord

T = TypeVar("T")
_EXIT_GRACE_S = 0.05
_exit_grace_registered = False
VirtualMode = Literal["detect", "lock"]  # this machine's, or conda-lock's fixed set per platform
_ERROR_CHARS = 400


def run_async(call: Coroutine[Any, Any, T]) -> T:
    """Run one of rattler's async calls to completion.

    rattler's runtime threads drop their last Python references a moment after a call returns;
    if the interpreter is already finalizing then, the process aborts (py-rattler 0.28, seen in
    about 1 exit in 4 right after a solve). An exit hook gives them that moment.
    """
    global _exit_grace_registered
    if not _exit_grace_registered:
        atexit.register(time.sleep, _EXIT_GRACE_S)
        _exit_grace_registered = True
    return asyncio.run(call)


def rattler_version() -> str:
    import rattler

    return str(rattler.__version__)


def current_platform() -> str:
    from rattler.platform import Subdir

    return str(Subdir.current())


def package_cache() -> Path:
    return conda_dir("pkgs")


def solve(
    channels: Sequence[str],
    specs: Sequence[str],
    platform: str,
    *,
    virtual: VirtualMode,
    reporter: BuildLog,
    what: str,
) -> list[RepoDataRecord]:
    """The records of a solved environment for `platform` (highest versions first)."""
    import rattler

    reporter.detail(f"solve for {platform} from {list(channels)}: {list(specs)}")
    gateway = rattler.Gateway(cache_dir=conda_dir("repodata"))
    subdirs: list[Any] = [platform, "noarch"]  # rattler checks the names itself
    packages = _virtual_packages(platform, virtual)
    reporter.detail(f"virtual packages: {[str(p) for p in packages]}")
    try:
        records = run_async(
            rattler.solve(
                list(channels),
                list(specs),
                gateway=gateway,
                platforms=subdirs,
                virtual_packages=packages,
            )
        )
    except Exception as exc:  # rattler's SolverError, FetchRepoDataError, InvalidMatchSpecError...
        raise _solve_error(exc, what, reporter) from None
    for record in records:
        reporter.detail(f"  {record.name.normalized} {record.version} {record.build} {record.url}")
    return records


def install(records: Sequence[RepoDataRecord], prefix: Path, reporter: BuildLog) -> None:
    """Download (into the shared package cache) and link `records` into `prefix`."""
    import rattler

    try:
        run_async(
            rattler.install(
                list(records),
                prefix,
                cache_dir=package_cache(),
                installed_packages=[],
                show_progress=False,
                reporter=_InstallReporter(reporter, records),
                execute_link_scripts=False,
            )
        )
    except Exception as exc:  # rattler's InstallerError, TransactionError, LinkError...
        reporter.detail(f"install failed: {type(exc).__name__}: {exc}")
        raise EnvError(
            f"cannot install the conda packages: {_short(exc)}", f"full log: {reporter.path}"
        ) from None


def installed_explicit(prefix: Path) -> str:
    """The `@EXPLICIT` list (url#sha256 per package) of what `conda-meta/` says is installed.

    Read as plain JSON, so prefixes made by conda, mamba or micromamba work too; a record with
    no sha256 falls back to its md5 (conda's older explicit form).
    """
    lines = ["# platform: " + current_platform(), "@EXPLICIT"]
    entries = []
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        try:
            record = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        url = record.get("url") if isinstance(record, dict) else None
        if not url:
            continue
        digest = record.get("sha256") or record.get("md5")
        entries.append(f"{url}#{digest}" if digest else str(url))
    return "\n".join([*lines, *sorted(entries)]) + "\n"


def _virtual_packages(platform: str, mode: VirtualMode) -> list[Any]:
    import rattler

    if mode == "detect" and platform == current_platform():
        try:
            overrides = rattler.VirtualPackageOverrides.from_env()  # CONDA_OVERRIDE_* honoured
            return [p.into_generic() for p in rattler.VirtualPackage.detect(overrides)]
        except Exception:  # detection is best effort; solving without them still works
            return []
    return lock_virtual_packages(platform)


def lock_virtual_packages(platform: str) -> list[Any]:
    """conda-lock's default virtual packages for `platform`, so locks match its own."""
    import yaml
    from conda_lock.virtual_package import DEFAULT_VIRTUAL_PACKAGES_YAML_PATH
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    data = yaml.safe_load(Path(DEFAULT_VIRTUAL_PACKAGES_YAML_PATH).read_text(encoding="utf-8"))
    packages = data.get("subdirs", {}).get(platform, {}).get("packages", {})
    result = []
    for name, value in packages.items():
        version, _, build = str(value).partition(" ")
        result.append(
            GenericVirtualPackage(PackageName(name), Version(version), BuildString(build or "0"))
        )
    return result


class _InstallReporter:
    """rattler's installer callbacks: lines in the build log, and the package at hand (with its
    download size) on the progress line."""

    def __init__(self, reporter: BuildLog, records: Sequence[RepoDataRecord]) -> None:
        self._reporter = reporter
        self._names: dict[int, str] = {}
        self._sizes = {r.name.normalized: r.size for r in records if getattr(r, "size", None)}

    def on_transaction_start(self, total_operations: int) -> None:
        self._reporter.detail(f"transaction: {total_operations} operations")

    def on_populate_cache_start(self, operation: int, package_name: str) -> int:
        self._names[operation] = package_name
        return operation

    def on_download_start(self, cache_entry: int) -> int:
        name = self._names.get(cache_entry, str(cache_entry))
        size = self._sizes.get(name)
        shown = f"{name} ({human_size(size)})" if size else name
        self._reporter.detail(f"download {shown}")
        self._reporter.progress.item(f"downloading {shown}")
        return cache_entry

    def on_link_start(self, operation: int, package_name: str) -> int:
        self._reporter.detail(f"link {package_name}")
        self._reporter.progress.item(f"installing {package_name}")
        return operation

    def on_transaction_complete(self) -> None:
        self._reporter.detail("transaction complete")

    def __getattr__(self, name: str) -> Any:
        # every other callback of rattler's InstallerReporter protocol: accepted, not logged
        if name.startswith("on_"):
            return lambda *args: 0
        raise AttributeError(name)


def _solve_error(exc: BaseException, what: str, reporter: BuildLog) -> EnvError:
    reporter.detail(f"solve failed: {type(exc).__name__}: {exc}")
    kind = type(exc).__name__
    if kind == "SolverError":
        return EnvError(
            f"cannot solve {what}: {_short(exc)}",
            f"check the package names and versions; full log: {reporter.path}",
        )
    reach = unreachable(str(exc)) if kind in ("FetchRepoDataError", "GatewayError") else None
    if reach is not None:  # the cause first; the fix on a line of its own (hint_line)
        error = EnvError(
            f"cannot reach the conda channel {reach[0]}: {reach[1]}",
            "check `channels:` and MLPROJ_CHANNEL_ALIAS (or MLPROJ_DEFAULT_CHANNELS), or use "
            "--env-manager virtualenv to install the python pin and pip section from a Python "
            f"index; full log: {reporter.path}",
        )
        error.hint_line = True
        return error
    if kind in ("FetchRepoDataError", "GatewayError"):
        return EnvError(
            f"cannot read a conda channel of {what}: {_short(exc)}",
            "check `channels:` and MLPROJ_CHANNEL_ALIAS, or use --env-manager "
            "virtualenv to install the python pin and pip section from a Python "
            f"index; full log: {reporter.path}",
        )
    return EnvError(f"cannot solve {what}: {kind}: {_short(exc)}", f"full log: {reporter.path}")


def _short(exc: BaseException) -> str:
    text = str(exc).replace("Cannot solve the request because of: ", "")
    lines = [line.strip(" .") for line in text.splitlines() if line.strip(" .")]
    joined = "; ".join(lines)
    return joined if len(joined) <= _ERROR_CHARS else joined[: _ERROR_CHARS - 3] + "..."
