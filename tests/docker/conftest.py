"""Fixtures for the docker manager: a real engine (started by .ci/setup.d/30-docker.sh), the
test base image, copies of tests/resources/docker_project, and cleanup of what tests create."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlproj import spec
from mlproj._util.record import replace
from mlproj.envs.base import EnvOptions
from mlproj.spec.model import DockerEnv, Project
from tests.conftest import RESOURCES

BASE_IMAGE = os.environ.get("MLPROJ_TEST_DOCKER_IMAGE", "mlproj-test-base:bookworm")
SECRET = "s3cr3t-Value-that-must-never-leak"
TEST_PREFIX = "dtest-"  # project names of test projects, so their images can be removed


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason} (.ci/setup.d/30-docker.sh should provide it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine() -> Iterator[Any]:
    """A docker SDK client for the engine at DOCKER_HOST, with the test base image present."""
    import docker
    from docker.errors import DockerException, ImageNotFound

    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except DockerException as exc:
        where = os.environ.get("DOCKER_HOST", "the default socket")
        _unavailable(f"no Docker engine answers at {where}: {exc}")
    try:
        client.images.get(BASE_IMAGE)
    except ImageNotFound:
        _unavailable(f"the base image {BASE_IMAGE} is missing")
    yield client
    _remove_test_images(client)
    client.close()


def _remove_test_images(client: Any) -> None:
    from docker.errors import DockerException

    for image in client.images.list(filters={"label": "mlproj.project"}):
        if image.labels.get("mlproj.project", "").startswith(TEST_PREFIX):
            for tag in image.tags or [image.id]:
                with contextlib.suppress(DockerException):
                    client.images.remove(tag, force=True, noprune=False)


@pytest.fixture
def run_id() -> str:
    """A unique run id: the containers of a test carry it as the mlproj.run-id label."""
    return uuid.uuid4().hex


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "docker_project"
    shutil.copytree(RESOURCES / "docker_project", dest)
    return dest


@pytest.fixture
def project(project_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The resource project as the real spec parser loads it, under a unique name (so that
    its image is built by this test and removed at the end)."""
    monkeypatch.setenv("MLPROJ_TEST_SECRET", SECRET)
    loaded = spec.load_project(project_dir)
    return replace(loaded, name=f"{TEST_PREFIX}{uuid.uuid4().hex[:10]}")


def with_docker(project: Project, **changes: Any) -> Project:
    """`project` with its docker_env changed."""
    assert project.env.docker is not None
    docker_env: DockerEnv = replace(project.env.docker, **changes)
    return replace(project, env=replace(project.env, docker=docker_env))


def options(**changes: Any) -> EnvOptions:
    """EnvOptions for tests: no network unless a test says otherwise."""
    return EnvOptions(manager="docker", **{"network": "none", **changes})


class Sink:
    """Collects the output a container streams."""

    def __init__(self) -> None:
        self.data: dict[str, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}

    def write(self, stream: str, data: bytes) -> None:
        self.data[stream] += data

    @property
    def stdout(self) -> str:
        return self.data["stdout"].decode()

    @property
    def stderr(self) -> str:
        return self.data["stderr"].decode()


def containers_of(client: Any, run_id: str) -> list[Any]:
    return list(client.containers.list(all=True, filters={"label": f"mlproj.run-id={run_id}"}))
