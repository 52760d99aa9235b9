"""`mlproj reproduce` of a docker run uses the base image the run recorded, never its tag.

Real engine, real registry (.ci/setup.d/55-registry.sh): a base is pushed under a tag, a run
uses it, a different image is pushed under the same tag; the reproduction still sees the
original base (a marker file baked into each image), pulled back by its recorded digest.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from mlproj.tracking import open_store
from tests.conftest import run_cli
from tests.docker.conftest import BASE_IMAGE, TEST_PREFIX

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REGISTRY = os.environ.get("MLPROJ_TEST_REGISTRY", "127.0.0.1:5055")
MARKER = "/etc/mlproj-base-marker"


def _require_registry() -> None:
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5):
            return
    except OSError:
        if os.environ.get("CI"):
            pytest.fail(f"no registry at {REGISTRY} (.ci/setup.d/55-registry.sh starts one)")
        pytest.skip(f"no registry at {REGISTRY}")


def _build_base(engine: Any, tag: str, marker: str) -> str:
    """An image FROM the test base with `marker` in MARKER, tagged `tag`; its id."""
    dockerfile = (
        f"FROM {BASE_IMAGE}\nRUN echo {marker} > {MARKER}\n"
        f"LABEL mlproj.project={TEST_PREFIX}pin-base\n"
    )
    data = dockerfile.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    image, _ = engine.images.build(fileobj=buffer, custom_context=True, tag=tag, rm=True)
    return str(image.id)


def _push(engine: Any, tag: str) -> None:
    repo, _, version = tag.rpartition(":")
    for event in engine.api.push(repo, tag=version, stream=True, decode=True):
        assert "error" not in event, event


def _remove(engine: Any, image_id: str) -> None:
    """The image gone from the engine, with the project images built on it."""
    from docker.errors import DockerException

    for child in engine.images.list(filters={"label": f"mlproj.project={TEST_PREFIX}pin"}):
        with contextlib.suppress(DockerException):
            engine.images.remove(child.id, force=True)
    with contextlib.suppress(DockerException):
        engine.images.remove(image_id, force=True)


def _gone(engine: Any, image_id: str) -> bool:
    from docker.errors import ImageNotFound

    try:
        engine.images.get(image_id)
    except ImageNotFound:
        return True
    return False


def _project(tmp_path: Path, image: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "MLproject").write_text(
        f"name: {TEST_PREFIX}pin\n"
        f"docker_env:\n  image: {image}\n"
        f"entry_points:\n  main:\n    command: cat {MARKER}\n"
    )
    return project


def _run_ids(store: Path) -> set[str]:
    return {r.info.run_id for r in open_store(str(store)).search_runs(["0"])}


def _first_run(store: Path, project: Path, tmp_path: Path) -> str:
    done = run_cli(["run", str(project), "--snapshot", "--tracking-uri", str(store)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run_id,) = _run_ids(store)
    return run_id


def _reproduce(run_id: str, store: Path, tmp_path: Path) -> Any:
    return run_cli(["reproduce", run_id, "--tracking-uri", str(store), "--json"], cwd=tmp_path)


def test_reproduce_pulls_the_recorded_digest_after_the_tag_moved(
    engine: Any, tmp_path: Path
) -> None:
    _require_registry()
    tag = f"{REGISTRY}/mlproj-test/{TEST_PREFIX}pin-{uuid.uuid4().hex[:8]}:v1"
    first_id = _build_base(engine, tag, "original-base")
    moved_id = None
    try:
        _push(engine, tag)
        store = tmp_path / "mlruns"
        project = _project(tmp_path, tag)
        original = _first_run(store, project, tmp_path)
        tags = open_store(str(store)).get_run(original).tags
        digest = tags["mlproj.docker.base_digest"]
        assert digest.startswith(f"{tag.rpartition(':')[0]}@sha256:")
        assert tags["mlproj.docker.base_id"] == first_id

        # the tag moves, in the registry and on this engine; the original leaves the engine
        moved_id = _build_base(engine, tag, "moved-base")
        _push(engine, tag)
        _remove(engine, first_id)
        assert _gone(engine, first_id) and engine.images.get(tag).id == moved_id

        again = _reproduce(original, store, tmp_path)
        assert again.returncode == 0, again.stderr
        assert "original-base" in again.stderr + again.stdout  # what the container saw
        assert "moved-base" not in again.stderr + again.stdout
        assert f"from {digest}" in again.stderr
        report = json.loads(again.stdout)
        new = open_store(str(store)).get_run(report["new_run_id"]).tags
        assert new["mlproj.docker.base_id"] == first_id
        assert new["mlproj.docker.base_pinned"] == digest
        logs = open_store(str(store)).read_artifact(report["new_run_id"], "logs/stdout.txt")
        assert logs.strip() == b"original-base"

        # the digest gone from the registry and the engine: one line before any new run
        _remove(engine, first_id)
        _delete_manifest(digest)
        assert _gone(engine, first_id)
        message = _refused_before_any_run(original, store, tmp_path)
        assert digest in message and "docker pull" in message
    finally:
        for image_id in (first_id, moved_id):
            if image_id:
                _remove(engine, image_id)


def _refused_before_any_run(original: str, store: Path, tmp_path: Path) -> str:
    """Reproduce fails with one line (returned) and creates no run."""
    before = _run_ids(store)
    failed = _reproduce(original, store, tmp_path)
    assert failed.returncode != 0
    lines: list[str] = failed.stderr.strip().splitlines()
    assert len(lines) == 1, failed.stderr
    print(lines[0])
    assert _run_ids(store) == before
    return lines[0]


def _delete_manifest(digest: str) -> None:
    repo, _, sha = digest.partition("@")
    name = repo.split("/", 1)[1]
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{name}/manifests/{sha}", method="DELETE"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def test_reproduce_of_a_locally_built_base_uses_its_id_or_says_it_is_gone(
    engine: Any, tmp_path: Path
) -> None:
    tag = f"{TEST_PREFIX}pin-local-{uuid.uuid4().hex[:8]}:1"
    first_id = _build_base(engine, tag, "local-original")
    moved_id = None
    try:
        store = tmp_path / "mlruns"
        original = _first_run(store, _project(tmp_path, tag), tmp_path)
        tags = open_store(str(store)).get_run(original).tags
        assert "mlproj.docker.base_digest" not in tags  # never pushed: the id is the pin
        moved_id = _build_base(engine, tag, "local-moved")  # the tag moves, the old id stays

        again = _reproduce(original, store, tmp_path)
        assert again.returncode == 0, again.stderr
        report = json.loads(again.stdout)
        logs = open_store(str(store)).read_artifact(report["new_run_id"], "logs/stdout.txt")
        assert logs.strip() == b"local-original"

        _remove(engine, first_id)
        assert _gone(engine, first_id)
        message = _refused_before_any_run(original, store, tmp_path)
        assert first_id in message and "docker load" in message
    finally:
        for image_id in (first_id, moved_id):
            if image_id:
                _remove(engine, image_id)
