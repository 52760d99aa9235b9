"""The environment cache: one directory per env key, built under a file lock, published last.

Layout under `paths.envs_dir()`:
  <key>/                    a ready env; ready means it holds MARKER (written last) and passes
                            the manager's health check
  <key>.lock                flock file of the builder (never deleted, see _util.filelock)
  .tmp-<key>-<random>/      a build in progress (or the leftover of a dead builder)
  .trash-<key>-<random>/    an env being deleted
Build logs go to `paths.build_logs_dir()/<key>.log`.

Two ways to publish (chosen per manager with `relocatable`):
  relocatable=True   build in .tmp-*, write the marker, then rename into place (atomic);
  relocatable=False  build at the final path under the lock, write the marker last; a directory
                     without a marker is never taken as ready and is wiped before a rebuild.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlproj import output
from mlproj._util.filelock import locked, try_locked
from mlproj._util.fs import TRASH_PREFIX, atomic_write, discard_dir
from mlproj.errors import EnvError
from mlproj.paths import build_logs_dir, envs_dir

MARKER = ".mlproj-env.json"  # written last: its presence means "completely built"
LAST_USED = ".mlproj-last-used"  # mtime = last time a run used the env
_TMP = ".tmp-"
_TRASH = TRASH_PREFIX


@dataclass(frozen=True)
class CachedEnv:
    key: str
    manager: str
    path: Path
    size_bytes: int
    created: float  # epoch seconds
    last_used: float  # epoch seconds
    meta: Mapping[str, Any] = field(default_factory=dict)


def env_key(document: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of everything that shapes an environment."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def envs_root() -> Path:
    return envs_dir()


def env_path(key: str) -> Path:
    return envs_dir(create=False) / key


def log_path(key: str) -> Path:
    """The build log of `key` (the full tool output of its last build)."""
    return build_logs_dir() / f"{key}.log"


def is_ready(key: str, health: Callable[[Path], bool] | None = None) -> bool:
    """Whether a finished env for `key` is in the cache (no lock, nothing built)."""
    path = env_path(key)
    if not (path / MARKER).is_file():
        return False
    return health(path) if health is not None else True


def ensure_env(
    manager: str,
    key: str,
    build: Callable[[Path], None],
    *,
    health: Callable[[Path], bool],
    meta: Mapping[str, Any] | None = None,
    relocatable: bool = True,
    on_wait: Callable[[], None] | None = None,
) -> Path:
    """The ready env dir for `key`: reused when ready and healthy, else built exactly once.

    `build(dir)` fills `dir` (raise EnvError on failure). `health(dir)` must be cheap: it runs on
    every reuse. `on_wait` is called once if another process holds the build lock.
    """
    final = env_path(key)
    if is_ready(key, health):  # fast path: no lock
        output.debug(f"{manager} environment {key[:12]} reused from {final}")
        _touch_last_used(final)
        return final
    with _locked(key, on_wait):
        if is_ready(key, health):  # someone else built it while we waited
            _touch_last_used(final)
            return final
        _sweep_leftovers(key)
        _start_log(key, manager)
        output.debug(f"building {manager} environment {key[:12]}; log {log_path(key)}")

        def fill(dest: Path) -> None:
            build(dest)
            _check_health(key, dest, health)
            _write_marker(dest, manager, key, meta or {})

        if relocatable:
            _build_and_rename(key, fill)
        else:
            _build_in_place(final, fill)
        _touch_last_used(final)
        return final


def list_envs() -> list[CachedEnv]:
    """Every ready env in the cache (builds in progress and leftovers are not listed)."""
    root = envs_dir(create=False)
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        env = _describe(entry)
        if env is not None:
            found.append(env)
    return found


def remove_env(key_or_prefix: str) -> CachedEnv:
    """Delete the env whose key is (or starts with) `key_or_prefix`; it must be unambiguous."""
    env = _find_one(key_or_prefix)
    with _try_locked(env.key) as got:
        if not got:
            raise EnvError(
                f"environment {env.key[:12]} is being built right now",
                "wait for the build to finish, then retry",
            )
        discard_dir(env.path)
    return env


def prune(older_than_seconds: float) -> list[CachedEnv]:
    """Delete envs not used for `older_than_seconds`, and leftovers of dead builders."""
    cutoff = time.time() - older_than_seconds
    removed = []
    for env in list_envs():
        if env.last_used >= cutoff:
            continue
        with _try_locked(env.key) as got:
            if got:
                discard_dir(env.path)
                removed.append(env)
    _sweep_all_leftovers()
    return removed


def remove_if_free(env: CachedEnv) -> bool:
    """Delete `env` unless a build or a run holds its lock (`mlproj cache prune`)."""
    with _try_locked(env.key) as got:
        if got:
            discard_dir(env.path)
    return got


# -- building ------------------------------------------------------------------------------


def _build_and_rename(key: str, fill: Callable[[Path], None]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP}{key}-", dir=envs_root()))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a published env is readable like mkdir's
        fill(tmp)
        final = env_path(key)
        if final.exists() or final.is_symlink():
            discard_dir(final)  # stale: unmarked or unhealthy
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build_in_place(final: Path, fill: Callable[[Path], None]) -> None:
    if final.exists() or final.is_symlink():
        discard_dir(final)  # an interrupted or unhealthy build: never reused
    final.mkdir()
    try:
        fill(final)
    except BaseException:
        discard_dir(final)
        raise


def _check_health(key: str, path: Path, health: Callable[[Path], bool]) -> None:
    if not health(path):
        raise EnvError(
            f"the new environment {key[:12]} failed its health check",
            f"see the build log {log_path(key)}",
        )


def _write_marker(path: Path, manager: str, key: str, meta: Mapping[str, Any]) -> None:
    record = {
        "manager": manager,
        "key": key,
        "created": time.time(),
        "meta": dict(meta),
        "size_bytes": _tree_size(path),
    }  # measured once: walking big envs is slow
    data = json.dumps(record, indent=1, sort_keys=True).encode("utf-8")
    atomic_write(path / MARKER, data, path, fsync=True)


def _start_log(key: str, manager: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    log_path(key).write_text(f"# mlproj {manager} build of {key} at {stamp} (pid {os.getpid()})\n")


def _touch_last_used(path: Path) -> None:
    stamp = path / LAST_USED
    try:
        os.utime(stamp)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            stamp.touch()
    except OSError:
        pass  # a read-only cache still works; only prune's view gets older


# -- locking -------------------------------------------------------------------------------


def _lock_file(key: str) -> Path:
    return envs_root() / f"{key}.lock"


def _locked(
    key: str, on_wait: Callable[[], None] | None
) -> contextlib.AbstractContextManager[None]:
    return locked(
        _lock_file(key),
        f"the environment {key[:12]}",
        timeout=None,
        on_wait=on_wait,
        error=EnvError,
    )


def _try_locked(key: str) -> contextlib.AbstractContextManager[bool]:
    return try_locked(_lock_file(key))


# -- cleaning ------------------------------------------------------------------------------


def _sweep_leftovers(key: str) -> None:
    """Under the key's lock, every temp dir of that key belongs to a dead builder."""
    root = envs_root()
    for prefix in (f"{_TMP}{key}-", f"{_TRASH}{key}-"):
        for leftover in root.glob(f"{prefix}*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _sweep_all_leftovers() -> None:
    root = envs_dir(create=False)
    if not root.is_dir():
        return
    keys = {_key_of_leftover(p.name) for p in root.iterdir() if p.name.startswith((_TMP, _TRASH))}
    for key in sorted(k for k in keys if k):
        with _try_locked(key) as got:
            if got:
                _sweep_leftovers(key)


def _key_of_leftover(name: str) -> str | None:
    for prefix in (_TMP, _TRASH):
        if name.startswith(prefix):
            return name[len(prefix) :].rsplit("-", 1)[0] or None
    return None


# -- describing ----------------------------------------------------------------------------


def _describe(path: Path) -> CachedEnv | None:
    try:
        record = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    created = float(record.get("created", 0.0))
    try:
        last_used = (path / LAST_USED).stat().st_mtime
    except OSError:
        last_used = created
    return CachedEnv(
        key=path.name,
        manager=str(record.get("manager", "?")),
        path=path,
        size_bytes=int(record.get("size_bytes") or _tree_size(path)),
        created=created,
        last_used=last_used,
        meta=record.get("meta") or {},
    )


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _find_one(key_or_prefix: str) -> CachedEnv:
    wanted = key_or_prefix.strip()
    if not wanted:
        raise EnvError("an environment key is required", "see `mlproj env list`")
    matches = [env for env in list_envs() if env.key.startswith(wanted)]
    if not matches:
        raise EnvError(f"no cached environment matches {wanted!r}", "see `mlproj env list`")
    if len(matches) > 1:
        shown = ", ".join(env.key[:12] for env in matches[:5])
        raise EnvError(
            f"{wanted!r} matches {len(matches)} environments ({shown})",
            "give more characters of the key",
        )
    return matches[0]
