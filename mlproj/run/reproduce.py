"""Turn what a run recorded back into a RunRequest: the same source, lock, entry point, params.

Everything that can fail (unreachable remote, missing commit, missing artifact, a lock for
another platform) fails here, before `runner.run` creates the new run.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import output, sources
from mlproj._util.record import replace
from mlproj.envs.base import EnvOptions
from mlproj.envs.recorded import (
    CONDA_LOCK,
    CONDA_PIP_LOCK,
    ENV_ARTIFACT_DIR,
    VENV_FROZEN,
    VENV_HASHED,
    env_artifact,
)
from mlproj.errors import EnvError, SourceError, TrackingError
from mlproj.run import record
from mlproj.run.runner import RunRequest
from mlproj.sources import snapshot
from mlproj.sources.base import FetchedProject, GitInfo
from mlproj.sources.git.cmd import GitFailed, run_git
from mlproj.tracking.base import Run, Store


@dataclass(frozen=True)
class Reproduction:
    request: RunRequest
    original: Run
    env_manager: str | None
    lock: str | None  # the recorded artifact the environment is rebuilt from


def prepare(
    store: Store,
    run: Run,
    work: Path,
    *,
    overrides: Mapping[str, str],
    tracking_uri: str,
    argv: tuple[str, ...],
) -> Reproduction:
    """The request that re-runs `run`; `work` keeps downloaded artifacts while it runs."""
    tags = run.tags
    run_id = run.info.run_id
    fetched, saved_code = _fetch_source(store, run, work)
    manager = tags.get("mlproj.env.manager")
    extra, lock = _locked_env(store, run, manager, work)
    params = {**run.params, **overrides}
    reproduces = {record.REPRODUCES: run_id}
    if overrides:
        reproduces["mlproj.reproduce.overrides"] = ",".join(sorted(overrides))
    request = RunRequest(
        uri=fetched.source_name,
        cwd=Path.cwd(),
        entry_point=tags.get("mlflow.project.entryPoint", "main"),
        params=params,
        env_manager=manager,
        env_options=EnvOptions(
            manager="",
            extra=extra,
            build_image=tags.get("mlproj.docker.code") != "mounted-read-only",  # --no-build
        ),
        tracking_uri=tracking_uri,
        experiment_id=None,
        argv=argv,
        snapshot=saved_code,
        fetched=fetched,
        extra_tags=reproduces,
    )
    return Reproduction(request, run, manager, lock)


# -- source --------------------------------------------------------------------------------


def _fetch_source(store: Store, run: Run, work: Path) -> tuple[FetchedProject, bool]:
    tags = run.tags
    if tags.get(record.SOURCE_SNAPSHOT):
        return _from_snapshot(store, run, work), True
    if tags.get(record.REPRODUCIBLE) == "false":
        reason = tags.get(record.REASON, "the run says it is not reproducible")
        raise SourceError(f"run {run.info.run_id} cannot be reproduced: {reason}")
    commit = tags.get("mlflow.source.git.commit")
    uri = tags.get(record.SOURCE_URI) or tags.get("mlflow.source.git.repoURL")
    if uri and record.BUNDLE_SHA in tags:
        return _from_bundle(uri, tags), False
    if not uri or not commit:
        raise SourceError(
            f"run {run.info.run_id} recorded no source another machine can reach",
            "it predates mlproj's reproducibility record, or ran from a local path",
        )
    sub = tags.get(record.SOURCE_SUBDIR)
    fetched = sources.fetch_project(uri + (f"#{sub}" if sub else ""), commit, cwd=work)
    if tags.get("mlproj.git.dirty") == "true":
        diff = _artifact(store, run, record.DIFF_ARTIFACT).decode("utf-8", "replace")
        fetched = _apply_diff(fetched, sub, diff)
    return fetched, False


def _from_snapshot(store: Store, run: Run, work: Path) -> FetchedProject:
    data = _artifact(store, run, record.SNAPSHOT_ARTIFACT)
    directory = work / "source"
    directory.mkdir()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            target = (directory / info.filename).resolve()
            if not target.is_relative_to(directory.resolve()):
                raise SourceError(f"{record.SNAPSHOT_ARTIFACT}: unsafe entry {info.filename!r}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            os.chmod(target, (info.external_attr >> 16) & 0o777 or 0o644)
    files = snapshot.project_files(directory)
    digest = snapshot.content_sha256(directory, files)
    expected = run.tags.get(record.SOURCE_SHA)
    if expected and digest != expected:
        raise SourceError(
            f"the saved code of run {run.info.run_id} does not match its recorded hash",
            f"{record.SNAPSHOT_ARTIFACT} was changed after the run",
        )
    name = f"runs:/{run.info.run_id}/{record.SNAPSHOT_ARTIFACT}"
    return FetchedProject(directory=directory, source_name=name)


def _from_bundle(uri: str, tags: Mapping[str, str]) -> FetchedProject:
    path = Path(uri)
    if not path.is_file():
        raise SourceError(f"the bundle {uri} the run came from is not on this machine")
    if hashlib.sha256(path.read_bytes()).hexdigest() != tags[record.BUNDLE_SHA]:
        raise SourceError(f"the bundle {uri} changed since the run (its sha256 differs)")
    sub = tags.get(record.SOURCE_SUBDIR)
    return sources.fetch_project(uri + (f"#{sub}" if sub else ""))


def _apply_diff(fetched: FetchedProject, sub: str | None, diff: str) -> FetchedProject:
    """The saved `git diff HEAD` applied to the (leased, reset-on-reuse) clean checkout."""
    if "diff --git" not in diff:
        return replace(fetched, git=replace(fetched.git or GitInfo(commit=""), dirty=True))
    root = fetched.directory
    for _ in Path(sub).parts if sub else ():
        root = root.parent
    patch = root / ".git" / "mlproj-reproduce.diff"
    if not (root / ".git").exists():
        patch = root.parent / f".{root.name}.mlproj-reproduce.diff"
    patch.write_text(diff, encoding="utf-8")
    try:
        run_git(["apply", "--whitespace=nowarn", str(patch)], cwd=root)
    except GitFailed as exc:
        sources.release(fetched)
        why = exc.stderr.strip().splitlines()[-1] if exc.stderr.strip() else str(exc)
        commit = fetched.git.commit if fetched.git else "the recorded commit"
        raise SourceError(f"the saved diff of the run does not apply to {commit}: {why}") from None
    finally:
        patch.unlink(missing_ok=True)
    git = fetched.git or GitInfo(commit="")
    return replace(fetched, git=replace(git, dirty=True, diff=diff))


# -- environment -------------------------------------------------------------------------------


def _locked_env(
    store: Store, run: Run, manager: str | None, work: Path
) -> tuple[dict[str, Any], str | None]:
    """EnvOptions.extra that make the manager install the recorded lock instead of solving."""
    if manager == "virtualenv":
        from mlproj.envs.virtualenv.lock import EXTRA_LOCK, EXTRA_PYTHON

        hashed = env_artifact(VENV_HASHED)
        artifact = hashed if _has_artifact(store, run, hashed) else env_artifact(VENV_FROZEN)
        path = _download(store, run, artifact, work)
        extra: dict[str, Any] = {EXTRA_LOCK: str(path)}
        if run.tags.get("mlproj.env.python"):
            extra[EXTRA_PYTHON] = run.tags["mlproj.env.python"]
        return extra, artifact
    if manager == "conda":
        from mlproj.envs.conda.lockfile import EXTRA_LOCK as CONDA_EXTRA
        from mlproj.envs.conda.lockfile import lock_platforms
        from mlproj.envs.conda.solve import current_platform

        lock = env_artifact(CONDA_LOCK)
        unlocked = run.tags.get("mlproj.env.unlocked")
        if unlocked and not _has_artifact(store, run, lock):
            raise EnvError(
                f"run {run.info.run_id} recorded no conda lock: {unlocked}",
                "rerun it without --conda-exe, or with a conda-lock.yml (`mlproj lock`)",
            )
        path = _download(store, run, lock, work)
        here = current_platform()
        locked = lock_platforms(path)
        if here not in locked:
            raise EnvError(
                f"run {run.info.run_id} recorded a conda lock for {', '.join(locked)}, "
                f"not for this machine ({here})",
                "reproduce it on a machine of that platform",
            )
        extra = {CONDA_EXTRA: str(path)}
        pip_lock = env_artifact(CONDA_PIP_LOCK)
        if _has_artifact(store, run, pip_lock):  # the pip: section's pins
            from mlproj.envs.conda.pip import EXTRA_PIP_LOCK

            extra[EXTRA_PIP_LOCK] = str(_download(store, run, pip_lock, work))
            return extra, f"{lock} and {pip_lock}"
        return extra, lock
    if manager == "docker":
        return _pinned_docker_base(run)
    return {}, None


def _pinned_docker_base(run: Run) -> tuple[dict[str, Any], str | None]:
    """The recorded base image by digest (else id), made available on the engine now, so that
    an image that cannot be had fails before the new run exists."""
    from mlproj.envs.docker import engine, pin

    extra = pin.extra_for(run.tags)
    base = pin.from_extra(extra)
    if base is None:
        return {}, None
    client = engine.connect(streaming=True)
    try:
        pin.pinned_base(client, base)
    finally:
        client.close()
    return extra, base.reference


def _download(store: Store, run: Run, artifact: str, work: Path) -> Path:
    path = work / "locks" / artifact
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_artifact(store, run, artifact))
    return path


def _has_artifact(store: Store, run: Run, artifact: str) -> bool:
    try:
        return artifact in store.list_artifacts(run.info.run_id, ENV_ARTIFACT_DIR)
    except TrackingError:
        return False


def _artifact(store: Store, run: Run, artifact: str) -> bytes:
    try:
        return store.read_artifact(run.info.run_id, artifact)
    except TrackingError as exc:
        raise TrackingError(
            f"run {run.info.run_id} has no artifact {artifact}, needed to reproduce it "
            f"({exc.message})",
            "the artifact store may be unreachable from here, or the run predates the record",
        ) from None


def warn(message: str) -> None:
    output.warning(message)
