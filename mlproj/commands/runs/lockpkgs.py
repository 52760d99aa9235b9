"""The packages a run's recorded lock pins, as {name: version}, for `runs diff`."""

from __future__ import annotations

import re
from typing import Any

from mlproj.envs.recorded import CONDA_EXPLICIT, CONDA_LOCK, VENV_FROZEN, env_artifact
from mlproj.errors import TrackingError
from mlproj.tracking.base import Run, Store

# artifact -> parser, in order of preference (the first one a run has is used)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;\\]+)")
_URL_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*)\s*@\s*(\S+)")
_CONDA_FILE = re.compile(r"/([^/]+)-([^-/]+)-([^-/]+?)(?:\.conda|\.tar\.bz2)(?:#.*)?$")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_requirements(text: str) -> dict[str, str]:
    """`name==version` (and `name @ url`) lines of pinned requirements."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        pin = _PIN.match(line)
        if pin:
            found[_normal(pin.group(1))] = pin.group(2)
            continue
        url = _URL_PIN.match(line)
        if url:
            found[_normal(url.group(1))] = url.group(2)
    return found


def parse_conda_lock(text: str, platform: str | None) -> dict[str, str]:
    import yaml

    data: Any = yaml.safe_load(text) or {}
    found: dict[str, str] = {}
    for package in data.get("package") or []:
        if platform and package.get("platform") not in (platform, None):
            continue
        prefix = "pip:" if package.get("manager") == "pip" else ""
        found[prefix + _normal(str(package.get("name")))] = str(package.get("version"))
    return found


def parse_conda_explicit(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _CONDA_FILE.search(line.strip())
        if match:
            found[_normal(match.group(1))] = match.group(2)
    return found


def locked_packages(store: Store, run: Run) -> tuple[str | None, dict[str, str]]:
    """(the artifact read, its packages); (None, {}) when the run recorded no lock."""
    platform = _conda_platform(run)
    readers = (
        (env_artifact(VENV_FROZEN), parse_requirements),
        (env_artifact(CONDA_LOCK), lambda t: parse_conda_lock(t, platform)),
        (env_artifact(CONDA_EXPLICIT), parse_conda_explicit),
    )
    for artifact, parse in readers:
        try:
            data = store.read_artifact(run.info.run_id, artifact)
        except TrackingError:
            continue
        return artifact, parse(data.decode("utf-8", "replace"))
    return None, {}


def _conda_platform(run: Run) -> str | None:
    """The conda subdir of the machine the run ran on (linux-64, osx-arm64, ...)."""
    system, _, machine = run.tags.get("mlproj.platform", "").partition("-")
    os_name = {"linux": "linux", "darwin": "osx", "win32": "win"}.get(system)
    arch = {"x86_64": "64", "AMD64": "64", "aarch64": "aarch64", "arm64": "arm64"}.get(machine)
    if os_name and arch:
        return f"{os_name}-{'arm64' if os_name == 'osx' and arch == 'aarch64' else arch}"
    return None
