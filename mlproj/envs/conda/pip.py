"""The `pip:` section of a conda.yml, through uv, into the conda prefix's own python."""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import proc
from mlproj.envs.buildlog import BuildLog
from mlproj.envs.virtualenv import pipconf
from mlproj.envs.virtualenv.requirements import sets_index
from mlproj.errors import EnvError

# conda subdir -> uv's --python-platform; glibc 2.28 matches conda-lock's default __glibc
_UV_PLATFORMS = {
    "linux-64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
}


PIP_LOCK_HEADER = (
    "# the packages the pip: section installed, pinned (mlproj reproduce installs them with\n"
    "# --no-deps, so nothing is resolved again)\n"
)
EXTRA_PIP_LOCK = "conda_pip_lock"  # EnvOptions.extra key: a recorded pip lock (mlproj reproduce)
_INDEX_OPTIONS = ("--index-url", "-i", "--extra-index-url", "--find-links", "-f")
_INDEX_FLAGS = ("--no-index",)


@dataclass(frozen=True)
class PipPin:
    """One locked pip package: exactly this file."""

    name: str
    version: str
    url: str
    sha256: str | None = None

    def requirement(self) -> str:
        line = f"{self.name} @ {self.url}"
        return f"{line} --hash=sha256:{self.sha256}" if self.sha256 else line


def uv_bin() -> str:
    from uv import find_uv_bin

    return str(find_uv_bin())


def requirement_args(lines: Sequence[str]) -> list[str]:
    """conda.yml pip lines as uv arguments: options split like a shell, requirements whole."""
    import shlex

    args: list[str] = []
    for line in lines:
        text = line.strip()
        if text.startswith("-"):
            args.extend(shlex.split(text))
        elif text:
            args.append(text)
    return args


def pip_install(python: Path, lines: Sequence[str], *, cwd: Path, reporter: BuildLog) -> None:
    """`uv pip install` the conda.yml pip lines (paths are relative to the conda.yml's dir)."""
    index = uv_index(lines)
    argv = [*_uv_install(python), *index.args, *requirement_args(lines)]
    _run_uv(argv, cwd=cwd, reporter=reporter, what="pip install", extra_env=index.env)


def pip_install_locked(python: Path, pins: Sequence[PipPin], *, reporter: BuildLog) -> None:
    """Install exactly `pins` (no resolution: --no-deps, hashes checked)."""
    with tempfile.TemporaryDirectory(prefix="mlproj-pip-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(pin.requirement() + "\n" for pin in pins), encoding="utf-8")
        # direct URLs with hashes: no index is consulted, so no index settings are passed
        argv = [*_uv_install(python), "--no-deps", "-r", str(req)]
        _run_uv(argv, cwd=Path(tmp), reporter=reporter, what="pip install (locked)")


def installed_lines(python: Path) -> set[str]:
    """`uv pip freeze` of the prefix, as a set of lines (what is there before the pip step)."""
    return {line for line in pip_freeze(python).splitlines() if line.strip()}


def write_pip_lock(
    python: Path,
    before: set[str],
    lines: Sequence[str],
    dest: Path,
    *,
    cwd: Path,
    reporter: BuildLog,
) -> None:
    """What the pip step added or changed (freeze lines not there before it) at `dest`, each
    with the sha256 of its files where the index gives them: a reproduction installs exactly
    this with --no-deps. Packages conda installed stay out of it."""
    added = [
        line for line in pip_freeze(python).splitlines() if line.strip() and line not in before
    ]
    hashes = _index_hashes(python, added, lines, cwd=cwd, reporter=reporter)
    text = PIP_LOCK_HEADER
    for line in added:
        name, pinned, version = line.partition("==")
        found = hashes.get(_canonical(name)) if pinned else None
        if found and found[0] == version.strip() and found[1]:
            line += "".join(f" --hash=sha256:{sha}" for sha in found[1])
        text += line + "\n"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")


def _index_hashes(
    python: Path, pinned: Sequence[str], lines: Sequence[str], *, cwd: Path, reporter: BuildLog
) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, sha256 of each of its files) as the index gives them. Every line is
    pinned and --no-deps, so this picks nothing (pylock.toml: the plain format drops hashes
    under --no-deps). Empty where the index cannot say."""
    if not pinned:
        return {}
    target = ["--no-deps", "--python", str(python), *index_options(lines)]
    what = "pip compile (hashes of the installed pins)"
    try:
        out = _compile_pylock(lines, pinned, target, cwd=cwd, reporter=reporter, what=what)
    except EnvError as exc:
        reporter.detail(f"pip lock without hashes: {exc.one_line()}")
        return {}
    found: dict[str, tuple[str, list[str]]] = {}
    for package in _toml().loads(out).get("packages", []):
        files = [*package.get("wheels", []), package.get("sdist") or {}]
        shas = [str(f["hashes"]["sha256"]) for f in files if (f.get("hashes") or {}).get("sha256")]
        found[_canonical(str(package["name"]))] = (str(package.get("version", "")), shas)
    return found


def _canonical(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def pip_install_lockfile(
    python: Path, lock: Path, lines: Sequence[str], *, cwd: Path, reporter: BuildLog
) -> None:
    """Install a recorded pip lock as it is: --no-deps, so nothing is resolved or upgraded
    (the index settings only say where the pinned files are)."""
    index = uv_index(lines)
    argv = [*_uv_install(python), "--no-deps", *index.args, *index_options(lines), "-r", str(lock)]
    _run_uv(
        argv, cwd=cwd, reporter=reporter, what="pip install (recorded pins)", extra_env=index.env
    )


def count_lock_pins(lock: Path) -> int:
    text = lock.read_text(encoding="utf-8")
    return sum(1 for line in text.splitlines() if line.strip() and line[0] not in "#- ")


def index_options(lines: Sequence[str]) -> list[str]:
    """The index options among conda.yml pip lines (where files are found; not requirements)."""
    import shlex

    args: list[str] = []
    for line in lines:
        words = shlex.split(line.strip()) if line.strip().startswith("-") else []
        for i, word in enumerate(words):
            name = word.split("=", 1)[0]
            if name in _INDEX_FLAGS:
                args.append(word)
            elif name in _INDEX_OPTIONS:
                args.append(word)
                if "=" not in word and i + 1 < len(words):
                    args.append(words[i + 1])
    return args


def _uv_install(python: Path) -> list[str]:
    # bytecode now, or every run of the env recompiles it
    return [uv_bin(), "pip", "install", "--compile-bytecode", "--python", str(python)]


def pip_compile(
    lines: Sequence[str], *, cwd: Path, python_version: str, platform: str, reporter: BuildLog
) -> list[PipPin]:
    """Resolve the pip lines for a conda platform and python version, as pinned files."""
    target = _UV_PLATFORMS.get(platform)
    if target is None:
        raise EnvError(
            f"cannot lock the pip: section for platform {platform}",
            f"lock one of {sorted(_UV_PLATFORMS)}, or move pip packages to conda",
        )
    for_target = ["--python-version", python_version, "--python-platform", target]
    out = _compile_pylock(lines, lines, for_target, cwd=cwd, reporter=reporter, what="pip compile")
    return pins_from_pylock(out)


def _compile_pylock(
    lines: Sequence[str],
    requirements: Sequence[str],
    target: Sequence[str],
    *,
    cwd: Path,
    reporter: BuildLog,
    what: str,
) -> str:
    """`uv pip compile` of `requirements` as pylock.toml (the format that keeps hashes) for
    `target` (an interpreter, or a python version and platform), through the index that the
    pip configuration and the conda.yml pip `lines` name."""
    index = uv_index(lines)
    argv = [uv_bin(), "pip", "compile", "-", "--format", "pylock.toml", "--no-header"]
    text = "".join(line.strip() + "\n" for line in requirements)
    return _run_uv(
        [*argv, *target, *index.args],
        cwd=cwd,
        reporter=reporter,
        what=what,
        stdin=text,
        extra_env=index.env,
    )


def _toml() -> Any:
    return importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")


def pins_from_pylock(text: str) -> list[PipPin]:
    toml = _toml()
    data = toml.loads(text)
    return [_pin(package) for package in data.get("packages", [])]


def pip_freeze(python: Path) -> str:
    argv = [uv_bin(), "pip", "freeze", "--python", str(python)]
    result = proc.run_quiet(argv, env=_uv_env())
    return result.stdout if result.returncode == 0 else ""


def uv_index(lines: Sequence[str]) -> pipconf.UvIndexSettings:
    """The user's pip configuration (pip.conf, PIP_*) as uv settings, the virtualenv way: a
    `--index-url` among the conda.yml pip lines wins over the configured index."""
    return pipconf.uv_settings(pipconf.read_pip_config(), project_sets_index=sets_index(lines))


def index_key(lines: Sequence[str]) -> dict[str, Any]:
    """The part of the pip configuration that shapes what gets installed (for env keys)."""
    settings = uv_index(lines)
    return {
        "translated": {k: v for k, v in settings.env.items() if k != "SSL_CERT_FILE"},
        "args": list(settings.args),
        "user": pipconf.user_uv_settings(),
    }


def _pin(package: Mapping[str, Any]) -> PipPin:
    name, version = str(package["name"]), str(package.get("version", ""))
    for key in ("wheels", "sdist", "archive"):
        files = package.get(key)
        entry = files[0] if isinstance(files, list) and files else files
        if isinstance(entry, Mapping) and entry.get("url"):
            sha = (entry.get("hashes") or {}).get("sha256")
            return PipPin(name, version, str(entry["url"]), None if sha is None else str(sha))
    directory = package.get("directory")
    if isinstance(directory, Mapping) and directory.get("path"):
        return PipPin(name, version, Path(str(directory["path"])).resolve().as_uri())
    raise EnvError(
        f"cannot lock pip package {name}: uv gave no file URL for it",
        "use a package from an index or a wheel file",
    )


def _uv_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    env.pop("VIRTUAL_ENV", None)  # --python names the target; an active venv must not
    env.setdefault("UV_NO_PROGRESS", "1")
    return env


def _run_uv(
    argv: Sequence[str],
    *,
    cwd: Path,
    reporter: BuildLog,
    what: str,
    stdin: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> str:
    if extra_env:
        shown = {k: pipconf.redact_urls(v) for k, v in sorted(extra_env.items())}
        reporter.detail(f"pip configuration for uv: {shown}")
    return reporter.run(
        argv,
        what=what,
        where=" in the conda environment",
        cwd=cwd,
        input=stdin if stdin is not None else "",
        env=_uv_env(extra_env),
    )
