"""Interpreters where people keep them, read from the file system (no subprocess: fast).

pyenv (`$PYENV_ROOT/versions/X.Y.Z`), asdf (`$ASDF_DATA_DIR/installs/python/X.Y.Z`), uv's
managed installs (`$UV_PYTHON_INSTALL_DIR/cpython-X.Y.Z-...`) and PATH (`python3.X`). A version
read from a directory name is CPython's x.y.z; PATH entries are probed (one process each) since
their names carry no patch version, so pythons.locate looks there only when the layouts hold no
exact match.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from mlproj import proc

_VERSION_DIR = re.compile(r"^(\d+\.\d+\.\d+)$")
_UV_DIR = re.compile(r"^cpython-(\d+\.\d+\.\d+)-[^+]*$")  # no +freethreaded / +debug variants
_PATH_NAME = re.compile(r"^python3\.\d+$")


@dataclass(frozen=True)
class Interpreter:
    version: str  # x.y.z
    path: str  # an executable that runs it


def scan() -> list[Interpreter]:
    """Every CPython found, in the order pyenv, asdf, uv-managed, PATH."""
    return [*scan_layouts(), *scan_path()]


def scan_layouts() -> list[Interpreter]:
    """pyenv, asdf and uv-managed installs: their directory names say the version (no process)."""
    found: list[Interpreter] = []
    found += _versions_dir(_pyenv_root() / "versions", _VERSION_DIR)
    found += _versions_dir(_asdf_root() / "installs" / "python", _VERSION_DIR)
    found += _versions_dir(_uv_root(), _UV_DIR)
    return found


def _pyenv_root() -> Path:
    return Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")


def _asdf_root() -> Path:
    return Path(os.environ.get("ASDF_DATA_DIR") or Path.home() / ".asdf")


def _uv_root() -> Path:
    if os.environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(os.environ["UV_PYTHON_INSTALL_DIR"])
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


def _versions_dir(root: Path, pattern: re.Pattern[str]) -> list[Interpreter]:
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    found = []
    for name in names:
        match = pattern.match(name)
        if match is None:
            continue
        for exe in ("python3", "python"):
            path = root / name / "bin" / exe
            if os.access(path, os.X_OK):
                found.append(Interpreter(match.group(1), str(path)))
                break
    return found


def scan_path() -> list[Interpreter]:
    """`python3.X` on PATH (pyenv shims excluded: they fail for inactive versions); each one
    is run once to learn its patch version."""
    seen: set[str] = set()
    found = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or entry.rstrip("/").endswith("/shims"):
            continue
        try:
            names = sorted(n for n in os.listdir(entry) if _PATH_NAME.match(n))
        except OSError:
            continue
        for name in names:
            path = os.path.join(entry, name)
            real = os.path.realpath(path)
            if real in seen or not os.access(path, os.X_OK):
                continue
            seen.add(real)
            version = probe(path)
            if version:
                found.append(Interpreter(version, path))
    return found


def probe(path: str) -> str | None:
    """The x.y.z version an interpreter reports, None if it does not run."""
    done = proc.run_quiet(
        [path, "-I", "-S", "-c", "import platform; print(platform.python_version())"]
    )
    version = (done.stdout or "").strip()
    return version if done.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+\S*", version) else None
