"""The exact base image a run recorded, for `mlproj reproduce`: by registry digest, else by id.

A tag can move (re-pushed, re-built), so a reproduction never looks the base up by its tag: it
uses the local image with the recorded id, or pulls the recorded `repo@sha256:...` digest, and
builds `FROM` that. An image that cannot be had this way is a one-line EnvError, raised by
`run/reproduce.py` before the new run exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlproj.envs.docker import engine as docker_engine
from mlproj.errors import EnvError

EXTRA_DIGEST = "docker_base_digest"  # EnvOptions.extra key: the recorded repo@sha256:... digest
EXTRA_ID = "docker_base_id"  # EnvOptions.extra key: the recorded image id (sha256:...)


@dataclass(frozen=True)
class BasePin:
    digest: str | None  # repo@sha256:..., when the base came from a registry
    image_id: str | None  # sha256:... (what the engine calls the image)

    @property
    def reference(self) -> str:
        """What the Dockerfile's FROM and the container name: the digest, else the id."""
        return self.digest or self.image_id or ""


def from_extra(extra: Any) -> BasePin | None:
    digest, image_id = extra.get(EXTRA_DIGEST), extra.get(EXTRA_ID)
    if not digest and not image_id:
        return None
    return BasePin(digest or None, image_id or None)


def extra_for(tags: Any) -> dict[str, str]:
    """EnvOptions.extra pinning the base a run recorded (`mlproj.docker.base_*` tags)."""
    extra = {}
    if tags.get("mlproj.docker.base_digest"):
        extra[EXTRA_DIGEST] = str(tags["mlproj.docker.base_digest"])
    if tags.get("mlproj.docker.base_id"):
        extra[EXTRA_ID] = str(tags["mlproj.docker.base_id"])
    return extra


def pinned_base(client: Any, pin: BasePin) -> Any:
    """The image `pin` names, on this engine: the local one with its id, else pulled by digest.
    Never by tag. Raises a one-line EnvError naming the digest (or id) and the fix."""
    if pin.image_id:
        image = docker_engine.find_image(client, pin.image_id)
        if image is not None:
            return image
    if pin.digest is None:
        raise EnvError(
            f"the recorded docker base image {pin.image_id} (built locally, no registry digest) "
            "is not on this engine",
            "`docker save` it on the machine of the run and `docker load` it here",
        )
    if docker_engine.find_image(client, pin.digest) is None:
        _pull_digest(client, pin.digest)
    image = docker_engine.find_image(client, pin.digest)
    if image is None:
        raise EnvError(f"docker image {pin.digest} is not on this engine after pulling it")
    if pin.image_id and str(image.id) != pin.image_id:
        raise EnvError(
            f"docker image {pin.digest} has id {image.id}, not the recorded {pin.image_id}",
            "the registry serves different content under that digest; reproduce elsewhere",
        )
    return image


def _pull_digest(client: Any, digest: str) -> None:
    repo, _, sha = digest.partition("@")
    hint = f"make `docker pull {digest}` work here: log in to its registry, or `docker load` it"
    failed = f"the recorded docker base image {digest} cannot be pulled"
    docker_engine.pull(client, repo, sha, failed, hint)
