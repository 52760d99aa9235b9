"""Locked virtualenvs: pinned requirements installed as they are, without resolving anything.

A lock is a requirements file of exact pins (`name==version`, `--hash=sha256:...` where the
index gave one). It comes from one of two places:
- `python_env.lock.txt` beside python_env.yaml (written by `mlproj pack`), used while its header
  still names the sha256 of python_env.yaml (as conda-lock.yml beside conda.yml);
- the `requirements.lock.txt` a run recorded (its `requirements.frozen.txt` when it has none,
  as older runs), given by `mlproj reproduce` (EnvOptions.extra).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj.errors import EnvError

LOCK_NAME = "python_env.lock.txt"
EXTRA_LOCK = "venv_lock"  # EnvOptions.extra key: a recorded lock to install instead of solving
EXTRA_PYTHON = "venv_python"  # EnvOptions.extra key: the exact python version recorded
# a normalized name (as uv writes them) pinned to one version; a trailing ` \` continues the line
_PIN = re.compile(r"^([a-z0-9]+(?:-[a-z0-9]+)*)==([A-Za-z0-9.!+_-]+)(?: \\)?$")
_HEADER = re.compile(r"^# mlproj-lock: env-file-sha256=([0-9a-f]{64}|none) python=(\S+)$")
_HASH = re.compile(r"(?:^|\s)--hash[=\s]+\S", re.MULTILINE)


@dataclass(frozen=True)
class VenvLock:
    path: Path
    origin: str  # "recorded" or "project"
    sha256: str
    python: str | None  # the python version the pins were made for, when known


def find_lock(env_file: Path | None, project_dir: Path, extra: dict[str, Any]) -> VenvLock | None:
    """The lock to install from: the one given by `reproduce`, else a fresh project lock."""
    given = extra.get(EXTRA_LOCK)
    if given:
        path = Path(given)
        return VenvLock(path, "recorded", _sha(path), extra.get(EXTRA_PYTHON))
    path = lock_path(env_file, project_dir)
    if extra.get("ignore_project_lock") or not path.is_file():
        return None
    header = _HEADER.match(path.read_text(encoding="utf-8").partition("\n")[0])
    if header is None or header.group(1) != env_file_sha(env_file):
        return None  # stale or foreign: the env file is resolved as usual
    return VenvLock(path, "project", _sha(path), header.group(2))


def lock_path(env_file: Path | None, project_dir: Path) -> Path:
    return (env_file.parent if env_file else project_dir) / LOCK_NAME


def env_file_sha(env_file: Path | None) -> str:
    return _sha(env_file) if env_file is not None else "none"


def header(env_file: Path | None, python: str) -> str:
    return f"# mlproj-lock: env-file-sha256={env_file_sha(env_file)} python={python}\n"


def count_pins(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.startswith(("#", " ")))


def has_hashes(text: str) -> bool:
    """Whether a lock gives any `--hash` (a freeze gives none)."""
    return _HASH.search(text) is not None


def compile_command(uv: str, target: list[str], args: tuple[str, ...], source: str) -> list[str]:
    """`uv pip compile` of `source` (a file, or `-` for stdin) into exact pins with their sha256
    hashes; `target` chooses the interpreter (`--python PATH`, `--python-version X.Y.Z`)."""
    flags = ["--generate-hashes", "--no-header", "--no-annotate"]
    return [uv, "pip", "compile", *flags, *target, *args, source]


def compile_lock(
    uv: str, requirements: Path, python_version: str, env: dict[str, str], args: tuple[str, ...]
) -> str:
    """Pinned requirements with hashes for `requirements`, for a python version (`mlproj pack`;
    a build resolves its own lock for its interpreter, manager._resolve_lock)."""
    argv = compile_command(uv, ["--python-version", python_version], args, str(requirements))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise EnvError(f"cannot lock {requirements}: uv pip compile failed: {tail}")
    return done.stdout


def frozen_pins(lock: str) -> str | None:
    """What `uv pip freeze` prints once exactly `lock` is installed (with --no-deps, into an
    empty venv): its pins by name, hashes dropped. None when the lock holds anything but
    `name==version` pins (a path, a URL, an editable, a marker, an option): how uv records
    those only a freeze can say."""
    pins: list[tuple[str, str]] = []
    for line in lock.splitlines():
        text = line.strip()
        if not text or text.startswith(("#", "--hash=")):
            continue
        found = _PIN.match(text)
        if found is None:
            return None
        pins.append((found[1], found[2]))
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins))


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise EnvError(f"cannot read the lock {path}: {exc.strerror or exc}") from None
