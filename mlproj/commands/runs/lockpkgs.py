"""The packages a run's recorded locks pin, as {name: Pin}, for `runs diff`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mlproj.envs.recorded import (
    CONDA_EXPLICIT,
    CONDA_LOCK,
    CONDA_PIP_LOCK,
    VENV_FROZEN,
    VENV_HASHED,
    env_artifact,
)
from mlproj.errors import TrackingError
from mlproj.tracking.base import Run, Store

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")
_URL_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*@\s*(\S+)")
_HASH_OPTION = re.compile(r"--hash[=\s]+([A-Za-z0-9]+):([0-9A-Fa-f]+)")
_CONDA_FILE = re.compile(r"/([^/]+)-([^-/]+)-([^-/]+?)(?:\.conda|\.tar\.bz2)(?:#(.*))?$")
_DIGEST = re.compile(r"^(?:(sha256|md5):)?([0-9A-Fa-f]{32}|[0-9A-Fa-f]{64})$")
# the pip: section of a conda env is keyed apart from conda's packages, as conda-lock does
PIP_PREFIX = "pip:"


@dataclass(frozen=True)
class Pin:
    version: str
    hashes: frozenset[str] = frozenset()  # "sha256:<hex>", "md5:<hex>": the files it allows

    def other_file(self, other: Pin) -> bool:
        """Both record hashes of one kind and they differ: the same version, another file."""
        kinds = _kinds(self.hashes) & _kinds(other.hashes)
        return any(_of_kind(self.hashes, k) != _of_kind(other.hashes, k) for k in kinds)


@dataclass(frozen=True)
class LockedPackages:
    lock: str | None = None  # the environment's lock artifact, if the run recorded one
    pip_lock: str | None = None  # a conda env's pip: section lock, if recorded
    pins: Mapping[str, Pin] = field(default_factory=dict)
    hash_lock: str | None = None  # where the hashes of a lock without them were read, if any


def _kinds(hashes: frozenset[str]) -> set[str]:
    return {h.partition(":")[0] for h in hashes}


def _of_kind(hashes: frozenset[str], kind: str) -> frozenset[str]:
    return frozenset(h for h in hashes if h.startswith(kind + ":"))


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirements(text: str) -> dict[str, Pin]:
    """`name==version` (and `name @ url`) lines of pinned requirements, with their --hash
    options (continuation lines joined)."""
    found: dict[str, Pin] = {}
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        hashes = frozenset(f"{k.lower()}:{v.lower()}" for k, v in _HASH_OPTION.findall(line))
        pin = _PIN.match(line) or _URL_PIN.match(line)
        if pin:
            found[_normal(pin.group(1))] = Pin(pin.group(2), hashes)
    return found


def parse_conda_lock(text: str, platform: str | None) -> dict[str, Pin]:
    import yaml

    data: Any = yaml.safe_load(text) or {}
    found: dict[str, Pin] = {}
    for package in data.get("package") or []:
        if platform and package.get("platform") not in (platform, None):
            continue
        prefix = PIP_PREFIX if package.get("manager") == "pip" else ""
        hashes = frozenset(
            f"{k}:{str(v).lower()}" for k, v in (package.get("hash") or {}).items() if v
        )
        found[prefix + _normal(str(package.get("name")))] = Pin(str(package.get("version")), hashes)
    return found


def parse_conda_explicit(text: str) -> dict[str, Pin]:
    found: dict[str, Pin] = {}
    for line in text.splitlines():
        match = _CONDA_FILE.search(line.strip())
        if match:
            found[_normal(match.group(1))] = Pin(match.group(2), _url_digest(match.group(4)))
    return found


def _url_digest(fragment: str | None) -> frozenset[str]:
    """The `#<sha256>` (or older `#<md5>`) after a conda package URL."""
    digest = _DIGEST.match(fragment or "")
    if digest is None:
        return frozenset()
    hexed = digest.group(2).lower()
    return frozenset({f"{digest.group(1) or ('sha256' if len(hexed) == 64 else 'md5')}:{hexed}"})


def locked_packages(store: Store, run: Run) -> LockedPackages:
    """The packages of the run's environment lock (the first one it has, in order of
    preference; a virtualenv's freeze with the hashes of its hashed lock) and of its conda pip:
    section lock, keyed `pip:NAME`; empty when it recorded neither."""
    platform = _conda_platform(run)
    readers: tuple[tuple[str, Callable[[str], dict[str, Pin]]], ...] = (
        (env_artifact(VENV_FROZEN), parse_requirements),
        (env_artifact(CONDA_LOCK), lambda t: parse_conda_lock(t, platform)),
        (env_artifact(CONDA_EXPLICIT), parse_conda_explicit),
    )
    lock, pins = None, {}
    for artifact, parse in readers:
        text = _read(store, run, artifact)
        if text is not None:
            lock, pins = artifact, parse(text)
            break
    hash_lock = None
    if lock == env_artifact(VENV_FROZEN):
        hash_lock, pins = _venv_hashes(store, run, pins)
    pip_artifact = env_artifact(CONDA_PIP_LOCK)
    text = _read(store, run, pip_artifact)
    if text is None:
        return LockedPackages(lock, None, pins, hash_lock)
    pip = {PIP_PREFIX + name: pin for name, pin in parse_requirements(text).items()}
    return LockedPackages(lock, pip_artifact, {**pins, **pip}, hash_lock)


def _venv_hashes(
    store: Store, run: Run, frozen: dict[str, Pin]
) -> tuple[str | None, dict[str, Pin]]:
    """The frozen pins of a virtualenv with the hashes its `requirements.lock.txt` gives the
    same name and version (None: an older run recorded no such lock). The versions stay those
    of the freeze, which is what was installed: the lock names a local path requirement by its
    path, not by name, and lacks what a seeded venv holds besides it (pip)."""
    artifact = env_artifact(VENV_HASHED)
    text = _read(store, run, artifact)
    if text is None:
        return None, frozen
    hashed = parse_requirements(text)
    return artifact, {
        name: replace(pin, hashes=pin.hashes | hashed[name].hashes)
        if name in hashed and hashed[name].version == pin.version
        else pin
        for name, pin in frozen.items()
    }


def _read(store: Store, run: Run, artifact: str) -> str | None:
    try:
        return store.read_artifact(run.info.run_id, artifact).decode("utf-8", "replace")
    except TrackingError:
        return None


def _conda_platform(run: Run) -> str | None:
    """The conda subdir of the machine the run ran on (linux-64, osx-arm64, ...)."""
    system, _, machine = run.tags.get("mlproj.platform", "").partition("-")
    os_name = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(system)
    arch = {"x86_64": "64", "AMD64": "64", "aarch64": "aarch64", "arm64": "arm64"}.get(machine)
    if os_name and arch:
        return f"{os_name}-{'arm64' if os_name == 'osx' and arch == 'aarch64' else arch}"
    return None
