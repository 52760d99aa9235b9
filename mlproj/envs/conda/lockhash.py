"""Does a conda-lock.yml still match its conda.yml? conda-lock's content hash, plus ours for
what conda-lock cannot read, plus a fast path.

A lock written by mlproj records the sha256 of the conda.yml bytes it locked (custom_metadata):
while they are unchanged the lock is fresh without loading conda-lock (over a second to import).

The content hash is conda-lock's own (same function, same default virtual packages), so locks
written by `conda-lock` and by `mlproj lock` judge each other alike. conda-lock's parser rejects
option lines in a `pip:` section (`--index-url`, `--find-links`, `-r file`); those are hidden
from it and covered by a digest of ours in the lock's `custom_metadata` instead (with the bytes
of any `-r`/`-c` file they name).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlproj.errors import EnvError
from mlproj.paths import conda_dir

PIP_OPTIONS_KEY = "mlproj_pip_options_sha256"
SOURCE_KEY = "mlproj_source_sha256"  # the conda.yml bytes that were locked
_MEMO_SCHEMA = 2
_FILE_OPTIONS = ("-r", "--requirement", "-c", "--constraint")


def lock_spec(conda_file: Path, platforms: Sequence[str]) -> Any:
    """conda-lock's LockSpecification of `conda_file` (pip option lines left out)."""
    from conda_lock.src_parser import make_lock_spec

    with tempfile.TemporaryDirectory(prefix="mlproj-lockspec-") as scratch:
        source = _without_pip_options(conda_file, Path(scratch))
        try:
            return make_lock_spec(
                src_files=[source], platform_overrides=list(platforms), mapping_url=_empty_mapping()
            )
        except Exception as exc:  # conda-lock's own parser of conda.yml
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EnvError(f"{conda_file}: conda-lock cannot read it: {first}") from None


def content_hashes(spec: Any) -> dict[str, str]:
    from conda_lock.content_hash import compute_content_hashes
    from conda_lock.virtual_package import default_virtual_package_repodata

    # conda-lock's CLI passes the repo object itself (entering it only sets CONDA_OVERRIDE_*)
    return dict(compute_content_hashes(spec, default_virtual_package_repodata()))


def accepted_hashes(conda_file: Path, platform: str) -> set[str]:
    """Every content hash conda-lock accepts as "unchanged" for this file and platform.

    Remembered per (conda.yml bytes, platform, conda-lock version): importing conda-lock costs
    over a second, which a warm run must not pay.
    """
    memo = _memo_path(conda_file, platform)
    with contextlib.suppress(OSError, ValueError):
        return set(json.loads(memo.read_text(encoding="utf-8")))
    accepted = _compute_accepted(conda_file, platform)
    with tempfile.NamedTemporaryFile("w", dir=memo.parent, delete=False) as tmp:
        json.dump(sorted(accepted), tmp)
    Path(tmp.name).replace(memo)
    return accepted


def _compute_accepted(conda_file: Path, platform: str) -> set[str]:
    from conda_lock.content_hash import backwards_compatible_content_hashes
    from conda_lock.virtual_package import default_virtual_package_repodata

    spec = lock_spec(conda_file, [platform])
    repo = default_virtual_package_repodata()
    return set(backwards_compatible_content_hashes(spec, repo, platform))


def _memo_path(conda_file: Path, platform: str) -> Path:
    document = {
        "schema": _MEMO_SCHEMA,
        "conda_file": source_digest(conda_file),
        "name": conda_file.name,
        "platform": platform,
        "conda_lock": _conda_lock_install(),
    }
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
    return conda_dir("content-hashes") / f"{digest}.json"


def source_digest(conda_file: Path) -> str:
    return hashlib.sha256(conda_file.read_bytes()).hexdigest()


def custom_metadata(conda_file: Path) -> dict[str, str]:
    """What mlproj adds to a lock's `custom_metadata` (conda-lock keeps and ignores it)."""
    found = {SOURCE_KEY: source_digest(conda_file)}
    pip_options = pip_options_digest(conda_file)
    if pip_options:
        found[PIP_OPTIONS_KEY] = pip_options
    return found


def pip_options_digest(conda_file: Path) -> str | None:
    """sha256 of the pip option lines (and the files they name), or None when there are none."""
    from mlproj.spec import load_conda_env

    options = [
        line.strip() for line in load_conda_env(conda_file).pip if line.strip().startswith("-")
    ]
    if not options:
        return None
    files = {}
    for line in options:
        parts = line.split(None, 1)
        if parts[0] in _FILE_OPTIONS and len(parts) == 2:
            named = conda_file.parent / parts[1].strip()
            files[parts[1]] = (
                hashlib.sha256(named.read_bytes()).hexdigest() if named.is_file() else None
            )
    text = json.dumps({"options": options, "files": files}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _conda_lock_install() -> list[object]:
    """Where conda-lock is and when it was installed: an upgrade forgets remembered hashes.
    (Cheaper than importlib.metadata.version, which scans every installed distribution.)"""
    import importlib.util

    spec = importlib.util.find_spec("conda_lock")
    origin = spec.origin if spec is not None else None
    if origin is None:
        return []
    stat = Path(origin).stat()
    return [origin, stat.st_mtime_ns, stat.st_size]


def _without_pip_options(conda_file: Path, scratch: Path) -> Path:
    import yaml

    data = yaml.safe_load(conda_file.read_text(encoding="utf-8"))
    deps = data.get("dependencies") if isinstance(data, dict) else None
    if not isinstance(deps, list):
        return conda_file
    for item in deps:
        if isinstance(item, dict) and isinstance(item.get("pip"), list):
            item["pip"] = [p for p in item["pip"] if not str(p).strip().startswith("-")]
    copy = scratch / conda_file.name
    copy.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return copy


def _empty_mapping() -> str:
    """A local, empty pypi->conda name mapping: conda-lock would download one otherwise."""
    path = conda_dir() / "pypi-mapping-empty.json"
    if not path.is_file():
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as tmp:
            tmp.write("{}\n")
        Path(tmp.name).replace(path)
    return str(path)
