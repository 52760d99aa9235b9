"""Find an installed Python interpreter that satisfies a `python:` request (never download one).

Discovery asks uv, with downloads off: it sees PATH, pyenv shims, uv-managed installs and the
like. `uv python find` answers first; it gives up at the first broken candidate (a pyenv shim of
an inactive version), so then `uv python list --only-installed` is read and the newest match
taken, and its versions are what a "not found" error lists. Asking uv costs 0.1-1.5 s, so answers
are remembered in the cache for an hour, and re-checked with a stat of the interpreter each use.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlproj import proc
from mlproj.errors import EnvError
from mlproj.paths import cache_root

_REMEMBER_SECONDS = 3600.0
_OPS: dict[str, Callable[[tuple[int, ...], tuple[int, ...]], bool]] = {
    ">=": lambda v, w: v >= w,
    "<=": lambda v, w: v <= w,
    ">": lambda v, w: v > w,
    "<": lambda v, w: v < w,
}
_CLAUSE = re.compile(r"^(==|=|!=|~=|>=|<=|>|<)?\s*(\d+(?:\.\d+)*)(\.\*)?$")


@dataclass(frozen=True)
class Interpreter:
    version: str  # x.y.z
    path: str  # an executable that runs it


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


def find(request: str | None, uv: str) -> Interpreter:
    """An installed interpreter matching `request` (None: the one running mlproj).

    uv's own choice first (`uv python find`: the first match in its search order, as a
    hand-run `uv venv --python X` would take); when uv cannot answer, the newest match of all
    the interpreters it lists.
    """
    if request is None:
        return current()
    clauses = parse_request(request)  # a bad request fails before any slow listing
    remembered = _recall(request)
    if remembered is not None:
        return remembered
    best = _uv_find(uv, _uv_request(clauses), request) or _newest(uv, request)
    _remember(request, best)
    return best


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


def _newest(uv: str, request: str) -> Interpreter:
    found = installed(uv)
    fitting = [i for i in found if matches(i.version, request)]
    if not fitting:
        versions = sorted({i.version for i in found}, key=_version_tuple, reverse=True)
        raise EnvError(
            f"no Python matching {request!r} is installed (found: {', '.join(versions) or 'none'})",
            "install that version (mlproj never downloads Python), or change `python:`",
        )
    return max(fitting, key=lambda i: _version_tuple(i.version))  # max keeps the first of ties


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
    return cache_root() / "pythons.json"


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
