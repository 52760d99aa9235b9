"""The project image: `FROM <base>` plus the project code, tagged by a content hash.

An unchanged project (same files, same base image id) maps to the same tag, so its image is
reused without a build; any change gives a new tag and one build.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from mlproj import output
from mlproj.envs.docker import context as docker_context
from mlproj.envs.docker import engine as docker_engine
from mlproj.errors import EnvError
from mlproj.spec.model import Project

LABEL_PROJECT = "mlproj.project"
LABEL_DIGEST = "mlproj.context-digest"
LABEL_BASE = "mlproj.base-image"
_TAIL = 8  # build output lines kept for an error message


@dataclass(frozen=True)
class ImagePlan:
    """The image a project maps to, before anything is built."""

    base: str  # the base image as written in the MLproject
    base_id: str
    tag: str  # mlproj-<name>:<hash12>
    digest: str
    context: docker_context.Context


@dataclass(frozen=True)
class ReadyImage:
    tag: str  # what the container runs (the project tag, or the base image with --no-build)
    id: str
    built: bool  # False: reused (or the base image itself)


def project_name(project: Project) -> str:
    """A valid docker repository name for the project (its `name`, else its directory name)."""
    raw = (project.name or project.directory.name or "project").lower()
    name = re.sub(r"[^a-z0-9]+", "-", raw).strip("-")
    return name or "project"


def plan_image(project: Project, base: str, base_id: str) -> ImagePlan:
    context = docker_context.collect(project.directory, base)
    digest = context.digest(base_id)
    tag = f"mlproj-{project_name(project)}:{digest[:12]}"
    return ImagePlan(base, base_id, tag, digest, context)


def ensure_image(client: Any, project: Project, plan: ImagePlan) -> ReadyImage:
    """Reuse the image tagged `plan.tag`, or build it."""
    existing = docker_engine.find_image(client, plan.tag)
    if existing is not None:
        return ReadyImage(plan.tag, existing.id, built=False)
    size_mb = plan.context.size / 1e6
    _note(
        f"building docker image {plan.tag} from {plan.base} "
        f"({len(plan.context.entries)} entries, {size_mb:.1f} MB)"
    )
    started = time.monotonic()
    image_id = _build(client, project, plan)
    _note(f"built {plan.tag} in {time.monotonic() - started:.1f}s")
    return ReadyImage(plan.tag, image_id, built=True)


def _build(client: Any, project: Project, plan: ImagePlan) -> str:
    from docker.errors import DockerException

    labels = {
        LABEL_PROJECT: project_name(project),
        LABEL_DIGEST: plan.digest,
        LABEL_BASE: plan.base,
    }
    tail: list[str] = []
    with tempfile.SpooledTemporaryFile(max_size=64 * 1024 * 1024) as tar:
        docker_context.write_tar(plan.context, tar)
        try:
            events = client.api.build(
                fileobj=tar,
                custom_context=True,
                tag=plan.tag,
                labels=labels,
                rm=True,
                forcerm=True,  # no intermediate containers left behind, even on failure
                pull=False,
                decode=True,
            )
            for event in events:
                _check_event(event, plan, tail)
        except DockerException as exc:
            raise EnvError(
                f"building docker image {plan.tag} failed: {docker_engine.first_line(exc)}"
            ) from exc
    image = docker_engine.find_image(client, plan.tag)
    if image is None:
        raise EnvError(f"building docker image {plan.tag} produced no image", " | ".join(tail))
    return str(image.id)


def _check_event(event: Any, plan: ImagePlan, tail: list[str]) -> None:
    if not isinstance(event, dict):
        return
    if event.get("error"):
        message = " ".join(str(event["error"]).split())
        raise EnvError(
            f"building docker image {plan.tag} from {plan.base} failed: {message}",
            " | ".join(tail[-_TAIL:]) or None,
        )
    text = str(event.get("stream", "")).strip()
    if text:
        tail.append(" ".join(text.split()))
        del tail[:-_TAIL]


def _note(text: str) -> None:
    output.note(text)
