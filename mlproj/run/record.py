"""What a run records so that another machine can rebuild it exactly (see `mlproj reproduce`).

Tags name the source as a location another machine can reach (remote URL, full commit, subdir),
the content hash of a non-git directory, the bundle hash of a zip, the interpreter and platform,
and whether the run is reproducible (and if not, why). The environment's own lock is recorded
by its manager (`environment/` artifacts, `mlproj.env.*` tags).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

from mlproj._util.record import Record
from mlproj._util.sha256 import sha256_hex
from mlproj.sources import snapshot
from mlproj.sources.base import FetchedProject
from mlproj.sources.uri import is_zip_uri, split_subdirectory, url_scheme
from mlproj.tracking.base import Store

SNAPSHOT_ARTIFACT = "mlproj/source.zip"
DIFF_ARTIFACT = "mlproj/git.diff"
REPRODUCIBLE = "mlproj.reproducible"
REASON = "mlproj.reproducible.reason"
SOURCE_URI = "mlproj.source.uri"
SOURCE_SUBDIR = "mlproj.source.subdir"
SOURCE_SHA = "mlproj.source.sha256"
SOURCE_SNAPSHOT = "mlproj.source.snapshot"
BUNDLE_SHA = "mlproj.bundle.sha256"
PYTHON = "mlproj.python.version"
PLATFORM = "mlproj.platform"
REPRODUCES = "mlproj.reproduces"


class SourceRecord(Record):
    tags: dict[str, str]
    snapshot_zip: bytes | None = None

    def __repr__(self) -> str:  # the zipped code would flood a traceback
        size = "None" if self.snapshot_zip is None else f"<{len(self.snapshot_zip)} bytes>"
        return f"SourceRecord(tags={self.tags!r}, snapshot_zip={size})"


def platform_tags() -> dict[str, str]:
    uname = os.uname()  # platform.uname() would start a process to find the processor
    return {
        PYTHON: platform.python_version(),
        PLATFORM: f"{sys.platform}-{uname.machine}",
        "mlproj.os": f"{uname.sysname} {uname.release}",
    }


def describe_source(fetched: FetchedProject, save_snapshot: bool) -> SourceRecord:
    """The tags (and, with `save_snapshot`, the zipped code) that pin down the source."""
    tags = platform_tags()
    base, sub = split_subdirectory(fetched.source_name)
    zipped = None
    if save_snapshot:
        zipped, digest = _snapshot(fetched)
        tags[SOURCE_SHA] = digest
        tags[SOURCE_SNAPSHOT] = SNAPSHOT_ARTIFACT
    git = fetched.git
    reason = None
    if git is not None:
        if git.repo_url:
            tags[SOURCE_URI] = git.repo_url
            if sub:
                tags[SOURCE_SUBDIR] = sub
        else:
            reason = "source is a local path with no remote"
        if git.dirty and not reason:
            reason = _dirty_reason(git.untracked, git.diff or "")
    elif is_zip_uri(base):
        tags[SOURCE_URI] = base
        if sub:
            tags[SOURCE_SUBDIR] = sub
        local = Path(base[len("file://") :] if url_scheme(base) == "file" else base)
        if local.is_file():
            tags[BUNDLE_SHA] = sha256_hex(local.read_bytes())
    else:
        if SOURCE_SHA not in tags:
            files = snapshot.project_files(fetched.directory)
            content = snapshot.content_sha256(fetched.directory, files, snapshot.HASH_BUDGET)
            if content is not None:
                tags[SOURCE_SHA] = content
        reason = "source is a local path with no remote"
    if save_snapshot:
        reason = None  # the code itself is saved with the run
    tags[REPRODUCIBLE] = "false" if reason else "true"
    if reason:
        tags[REASON] = f"{reason}; rerun with --snapshot to save the code with the run"
    return SourceRecord(tags, zipped)


def _dirty_reason(untracked: tuple[str, ...], diff: str) -> str | None:
    """A dirty tree is rebuilt from the commit plus the saved diff, unless that misses files."""
    patterns = list(snapshot.ALWAYS_IGNORED)
    missing = [name for name in untracked if not snapshot.is_ignored(name, patterns)]
    if missing:
        return f"dirty tree without --snapshot: untracked files are not in the diff ({missing[0]})"
    if "# diff truncated" in diff[-64:]:
        return "dirty tree without --snapshot: the saved diff was truncated"
    return None


def _snapshot(fetched: FetchedProject) -> tuple[bytes, str]:
    directory = fetched.directory
    files = snapshot.project_files(directory)
    digest = snapshot.content_sha256(directory, files)
    assert digest is not None  # no budget: always a digest
    return snapshot.zip_directory(directory, files), digest


def save_source(store: Store, run_id: str, fetched: FetchedProject, record: SourceRecord) -> None:
    """The dirty diff and the snapshot, as artifacts of the run."""
    if fetched.git is not None and fetched.git.diff:
        store.write_artifact(run_id, DIFF_ARTIFACT, fetched.git.diff.encode())
    if record.snapshot_zip is not None:
        store.write_artifact(run_id, SNAPSHOT_ARTIFACT, record.snapshot_zip)
