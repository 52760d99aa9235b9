"""The cache root and every folder mlproj keeps below it, named once here.

<root>/git/               bare clones and leased checkouts          (sources.git)
<root>/zips/              unpacked zip projects                     (sources.zip)
<root>/envs/              built environments, one folder per key    (envs.cache)
<root>/logs/              build logs of envs and lock files         (envs)
<root>/conda/pkgs/        conda package cache                       (envs.conda)
<root>/conda/repodata/    conda channel indexes                     (envs.conda)
<root>/conda/content-hashes/  hashes of conda-lock inputs          (envs.conda)
<root>/docker/shell/      what a docker image's shell is            (envs.docker)
<root>/pythons.json       interpreters found lately                 (envs.virtualenv)
<root>/crash/             tracebacks of internal errors             (cli)
<root>/pending/           run endings waiting for their store       (tracking.spool)
"""

from __future__ import annotations

import os
from pathlib import Path

from mlproj.errors import MlprojError


def cache_root() -> Path:
    """`$MLPROJ_HOME`, else `$XDG_CACHE_HOME/mlproj`, else `~/.cache/mlproj`."""
    explicit = os.environ.get("MLPROJ_HOME")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / "mlproj").resolve()


def cache_dir(*parts: str) -> Path:
    """A sub-directory of the cache root, created on demand."""
    path = cache_root().joinpath(*parts)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only or full MLPROJ_HOME, a file in the way
        raise _cache_error(path, exc) from None
    return path


def cache_write_error(exc: OSError) -> MlprojError | None:
    """An OSError on a path under the cache root as a one-line error (None: elsewhere).

    Many parts create folders under the cache root; a read-only or full MLPROJ_HOME must be one
    clear error wherever it is met, not an internal error."""
    if not exc.filename:
        return None
    try:
        Path(os.path.abspath(exc.filename)).relative_to(cache_root())
    except ValueError:
        return None
    return _cache_error(exc.filename, exc)


def _cache_error(where: object, exc: OSError) -> MlprojError:
    return MlprojError(
        f"cannot write to mlproj's cache at {where}: {exc.strerror or exc}",
        "set MLPROJ_HOME to a writable directory with free space",
    )


def git_dir() -> Path:
    """Not created here: a repo's folder is made by its first clone."""
    return cache_root() / "git"


def zips_dir() -> Path:
    return cache_dir("zips")


def envs_dir(*, create: bool = True) -> Path:
    return cache_dir("envs") if create else cache_root() / "envs"


def build_logs_dir() -> Path:
    return cache_dir("logs")


def conda_dir(*parts: str) -> Path:
    """`conda/` and its parts: `pkgs`, `repodata`, `content-hashes`."""
    return cache_dir("conda", *parts)


def docker_shell_dir() -> Path:
    return cache_dir("docker", "shell")


def pythons_file() -> Path:
    return cache_root() / "pythons.json"


def pending_ends_dir() -> Path:
    """Not created here: the spool makes it when it first keeps a run's end."""
    return cache_root() / "pending"


def crash_dir() -> Path:
    return cache_dir("crash")
