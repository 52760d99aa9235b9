"""Find a Python interpreter that satisfies a `python:` request, or install one.

Interpreters are looked for where people keep them (discover.py: pyenv's `versions/`, asdf,
uv-managed installs, PATH), an exact patch match preferred; then uv is asked (`uv python find`,
`uv python list`, downloads off), which probes every candidate and costs 0.1-10 s. Answers are
remembered in the cache for an hour and re-checked with a stat of the interpreter each use.
When nothing matches, the interpreter is installed as MLflow's managers would: `uv python
install` (which honours UV_PYTHON_INSTALL_MIRROR), then `pyenv install`, unless downloads are
off (`--no-python-downloads`, UV_PYTHON_DOWNLOADS=never); the error then names the commands.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from mlproj import output, proc
from mlproj.envs.virtualenv import discover
from mlproj.envs.virtualenv.discover import Interpreter
from mlproj.errors import EnvError
from mlproj.paths import pythons_file

__all__ = ["Interpreter", "PythonMissing", "current", "downloads_allowed", "find", "locate"]

_REMEMBER_SECONDS = 3600.0

_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": lambda v, w: v >= w,
    "<=": lambda v, w: v <= w,
    ">": lambda v, w: v > w,
    "<": lambda v, w: v < w,
}
_CLAUSE = re.compile(r"^(==|=|!=|~=|>=|<=|>|<)?\s*(\d+(?:\.\d+)*)(\.\*)?$")


def current() -> Interpreter:
    """The interpreter running mlproj (the default when a project does not ask for one)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return Interpreter(platform.python_version(), base)


def parse_request(request: str) -> list[tuple[str, tuple[int, ...], bool]]:
    """`3.11`, `3.11.*`, `>=3.9,<3.12`, `~=3.10`, `!=3.11.2` -> [(op, version, wildcard)]."""
    text = request.strip()
    for prefix in ("cpython", "python"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    clauses = []
    for part in text.split(","):
        match = _CLAUSE.match(part.strip())
        if match is None:
            raise EnvError(
                f"python version request {request!r} is not understood",
                'write a version such as "3.11", "3.11.7" or ">=3.10,<3.13"',
            )
        op, version, star = match.groups()
        clauses.append((op or "==", tuple(int(x) for x in version.split(".")), bool(star)))
    return clauses


def matches(version: str, request: str) -> bool:
    have = tuple(int(x) for x in re.findall(r"\d+", version)[:3])
    return all(_clause_ok(have, op, want, star) for op, want, star in parse_request(request))


def _clause_ok(have: tuple[int, ...], op: str, want: tuple[int, ...], star: bool) -> bool:
    if op in ("==", "="):
        return have[: len(want)] == want  # "3.11" means any 3.11.x, as in conda and uv
    if op == "!=":
        return have[: len(want)] != want
    if op == "~=":
        return have >= want and have[: len(want) - 1] == want[:-1]
    padded = want + (0,) * (len(have) - len(want))
    return _OPS[op](have, padded)


class PythonMissing(EnvError):
    """No interpreter matches and none was installed; `found` and `commands` say more."""

    def __init__(self, request: str, found: list[str], commands: list[str], why: str) -> None:
        how = " or ".join(f"`{c}`" for c in commands)
        super().__init__(
            f"no Python matching {request!r} is installed (found: {', '.join(found) or 'none'})"
            f"; {why}",
            f"install it with {how}, or change `python:`" if how else "change `python:`",
        )
        self.request = request
        self.found = found
        self.commands = commands


def downloads_allowed(no_downloads_flag: bool = False) -> bool:
    """--no-python-downloads or UV_PYTHON_DOWNLOADS=never (or manual) turn installing off."""
    setting = os.environ.get("UV_PYTHON_DOWNLOADS", "")
    return not no_downloads_flag and setting not in ("never", "manual")


def find(request: str | None, uv: str, *, install: bool = True) -> Interpreter:
    """An interpreter matching `request` (None: the one running mlproj), installed with the
    user's tools when none is there and `install`; else PythonMissing."""
    if request is None:
        return current()
    found = locate(request, uv)
    if isinstance(found, Interpreter):
        return found
    if not install:
        raise PythonMissing(request, found, install_commands(request, uv), "downloads are off")
    return _install(request, uv, found)


def locate(request: str, uv: str) -> Interpreter | list[str]:
    """An installed match (nothing downloaded), or the versions found when there is none."""
    clauses = parse_request(request)  # a bad request fails before any slow listing
    remembered = _recall(request)
    if remembered is not None:
        return remembered
    scanned = [current(), *discover.scan_layouts()]
    # an exact match found without running anything is the answer: PATH comes last in the
    # discovery order, so its interpreters (one process each to learn their patch) cannot win
    best = _best(scanned, request, exact_only=True)
    if best is None:
        scanned += discover.scan_path()
        best = _best(scanned, request) or _uv_find(uv, _uv_request(clauses), request)
    if best is None:
        listed = installed(uv)
        best = _best(listed, request)
        if best is None:
            versions = {i.version for i in [*scanned, *listed]}
            return sorted(versions, key=_version_tuple, reverse=True)
    _remember(request, best)
    return best


def _best(
    candidates: list[Interpreter], request: str, *, exact_only: bool = False
) -> Interpreter | None:
    """An exact patch match first (`3.10.13` asked and there), else (unless `exact_only`) the
    newest match; of equals, the first found (discovery order: this one, pyenv, asdf,
    uv-managed, PATH)."""
    # uv builds virtualenvs for Python 3.6 and newer only (older ones lack `-I`)
    fitting = [
        i for i in candidates if matches(i.version, request) and _version_tuple(i.version) >= (3, 6)
    ]
    if not fitting:
        return None
    exact = [i for i in fitting if i.version == request.strip()]
    if exact or exact_only:
        return exact[0] if exact else None
    return max(fitting, key=lambda i: _version_tuple(i.version))


def _plain_version(target: str) -> bool:
    return re.fullmatch(r"\d+\.\d+(\.\d+)?", target) is not None


def install_commands(request: str, uv: str) -> list[str]:
    """The exact commands that would install `request`, for a person to run."""
    target = _uv_request(parse_request(request))
    uv_cmd = "uv" if shutil.which("uv") else uv
    quoted = target if _plain_version(target) else f"'{target}'"
    commands = [f"{uv_cmd} python install {quoted}"]
    if shutil.which("pyenv") and _plain_version(target):
        commands.append(f"pyenv install {target}")
    return commands


def _install(request: str, uv: str, found: list[str]) -> Interpreter:
    """`uv python install` (it honours UV_PYTHON_INSTALL_MIRROR), then `pyenv install`."""
    target = _uv_request(parse_request(request))
    attempts = [[uv, "python", "install", target]]
    pyenv = shutil.which("pyenv")
    if pyenv and _plain_version(target):
        attempts.append([pyenv, "install", "--skip-existing", target])
    failures = []
    for argv in attempts:
        output.note(f"installing Python {target}: {' '.join(argv)}")
        env = {k: v for k, v in os.environ.items() if k != "UV_PYTHON_DOWNLOADS"}
        done = proc.run_quiet(argv, env=env)
        if done.returncode == 0:
            located = locate(request, uv)
            if isinstance(located, Interpreter):
                return located
        lines = (done.stderr or done.stdout or "").strip().splitlines()
        last = lines[-1].strip() if lines else f"exit status {done.returncode}"
        failures.append(f"`{Path(argv[0]).name} {argv[1]}` failed: {last}")
    why = "installing it failed: " + "; ".join(failures)
    raise PythonMissing(request, found, install_commands(request, uv), why)


def _uv_request(clauses: list[tuple[str, tuple[int, ...], bool]]) -> str:
    parts = []
    for op, version, star in clauses:
        text = ".".join(str(x) for x in version)
        if op in ("==", "=") and len(clauses) == 1 and not star:
            return text  # a bare version: uv, like us, takes it as a prefix
        op = "==" if op == "=" else op
        parts.append(f"{op}{text}{'.*' if star else ''}")
    return ",".join(parts)


def _uv_env() -> dict[str, str]:
    return dict(os.environ, UV_PYTHON_DOWNLOADS="never")


def _uv_find(uv: str, uv_request: str, request: str) -> Interpreter | None:
    done = proc.run_quiet([uv, "python", "find", "--no-project", uv_request], env=_uv_env())
    path = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout else ""
    if not path:
        return None
    probe = proc.run_quiet(
        [path, "-I", "-S", "-c", "import platform; print(platform.python_version())"]
    )
    version = probe.stdout.strip()
    if probe.returncode != 0 or not version or not matches(version, request):
        return None
    return Interpreter(version, path)


def installed(uv: str) -> list[Interpreter]:
    """Every CPython uv can see on this machine, the one running mlproj included."""
    done = proc.run_quiet(
        [uv, "python", "list", "--only-installed", "--all-versions", "--output-format", "json"],
        env=_uv_env(),
    )
    found = [current()]
    if done.returncode == 0:
        try:
            rows = json.loads(done.stdout or "[]")
        except ValueError:
            rows = []
        for row in rows:
            if row.get("implementation") != "cpython" or row.get("variant", "default") != "default":
                continue
            if row.get("path") and row.get("version"):
                found.append(Interpreter(str(row["version"]), str(row["path"])))
    return found


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", version)[:3])


# -- remembered answers --------------------------------------------------------------------


def _memo_file() -> Path:
    return pythons_file()


def _fingerprint(path: str) -> list[float]:
    real = os.stat(os.path.realpath(path))
    return [real.st_mtime, float(real.st_size)]


def _recall(request: str) -> Interpreter | None:
    try:
        entry = json.loads(_memo_file().read_text(encoding="utf-8"))[request]
        if time.time() - float(entry["at"]) > _REMEMBER_SECONDS:
            return None
        if _fingerprint(entry["path"]) != entry["stat"]:
            return None
        return Interpreter(str(entry["version"]), str(entry["path"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(request: str, interpreter: Interpreter) -> None:
    memo = _memo_file()
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    try:
        data[request] = {
            "version": interpreter.version,
            "path": interpreter.path,
            "stat": _fingerprint(interpreter.path),
            "at": time.time(),
        }
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, memo)
    except OSError:
        pass  # remembering is an optimisation only
