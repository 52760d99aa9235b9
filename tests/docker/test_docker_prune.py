"""Item 15: `mlproj cache prune` removes mlproj-built images no container uses, and only those."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mlproj.envs.docker.image import LABEL_DIGEST
from tests.conftest import run_cli
from tests.docker.conftest import BASE_IMAGE

pytestmark = pytest.mark.docker


def _mlproj_image(engine: Any) -> str:
    """An image as mlproj tags and labels its builds, made from the test base image."""
    tag = f"mlproj-dtest-prune-{uuid.uuid4().hex[:8]}:x"
    container = engine.containers.create(BASE_IMAGE, command=["true"])
    try:
        repo, _, version = tag.partition(":")
        container.commit(repository=repo, tag=version, changes=[f"LABEL {LABEL_DIGEST}=test"])
    finally:
        container.remove()
    return tag


def test_prune_removes_unused_mlproj_images_only(engine: Any) -> None:
    from docker.errors import ImageNotFound  # here: collecting the fast lane imports no docker

    unused, used = _mlproj_image(engine), _mlproj_image(engine)
    holder = engine.containers.create(used, command=["true"])  # e.g. --keep-container
    try:
        # only this test's images: the engine is shared with other tests
        done = run_cli(["cache", "prune", "--older-than", "0s", "--images", "mlproj-dtest-prune-*"])
        assert done.returncode == 0, done.stderr
        try:
            engine.images.get(unused)
            raise AssertionError(f"{unused} was not removed: {done.stdout}{done.stderr}")
        except ImageNotFound:
            pass
        engine.images.get(used)  # kept: a container uses it
        engine.images.get(BASE_IMAGE)  # not built by mlproj: never touched
    finally:
        holder.remove()
        engine.images.remove(used, force=True)
