"""The docker manager: projects with `docker_env` run in a container of the project's image.

prepare: connect to the engine, find the base image, then build `FROM <base>` + the project code
(tagged by a content hash, so an unchanged project reuses its image), or with `--no-build` run
the base image with the project mounted read-only. launch: one container per run (docker_exec).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mlproj import output
from mlproj.envs.base import EnvFacts, EnvOptions
from mlproj.envs.docker import engine as docker_engine
from mlproj.envs.docker import image as docker_image
from mlproj.envs.docker import pin as docker_pin
from mlproj.envs.docker import shell as docker_shell
from mlproj.envs.docker.context import CODE_DIR
from mlproj.envs.docker.exec import ContainerExecution, start_container
from mlproj.envs.docker.image import ReadyImage
from mlproj.envs.docker.settings import docker_decl, settings
from mlproj.errors import EnvError
from mlproj.proc import LaunchRequest
from mlproj.spec.model import Project

_LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class DockerPrepared:
    """A built (or reused) image, ready to run. It holds no engine connection: each launched
    container has its own, closed with it (docker_exec), so nothing is left for the GC."""

    project: Project
    options: EnvOptions
    image: ReadyImage
    shell: str  # bash, or sh for images without bash
    facts: EnvFacts
    artifacts: Sequence[tuple[Path, str]] = ()

    def launch(self, request: LaunchRequest) -> ContainerExecution:
        container = settings(
            self.project,
            self.options,
            self.image.tag,
            mount_code=not self.options.build_image,
            env_source=request.env,
        )
        _warn_loopback_tracking(request.env, container.network)
        argv = [self.shell, "-c", request.command]
        return start_container(container, argv, request.sink)


class DockerManager:
    name = "docker"

    def plan(self, project: Project, options: EnvOptions) -> dict[str, Any]:
        decl = docker_decl(project)
        mounted = not options.build_image
        result: dict[str, Any] = {
            "manager": "docker",
            "engine": docker_engine.engine_url(),
            "base_image": {"name": decl.image},
            "code": f"mounted read-only at {CODE_DIR}" if mounted else f"copied to {CODE_DIR}",
        }
        image = decl.image
        try:
            client = docker_engine.connect()
        except EnvError as exc:
            result["engine_error"] = exc.one_line()
        else:
            try:
                image = _plan_images(client, project, options, result)
            finally:
                client.close()
        try:
            container = settings(project, options, image, mount_code=mounted, env_source=os.environ)
        except EnvError as exc:  # a dry run reports what a real run would refuse
            result["container_error"] = exc.one_line()
        else:
            result["container"] = container.describe()
        return result

    def prepare(self, project: Project, options: EnvOptions) -> DockerPrepared:
        decl = docker_decl(project)
        # Refuse bad -A options, volumes or missing variables before any build.
        settings(project, options, decl.image, mount_code=False, env_source=os.environ)
        client = docker_engine.connect(streaming=True)
        try:
            pin = docker_pin.from_extra(options.extra)  # mlproj reproduce: the recorded base
            if pin is not None:
                base, base_ref = docker_pin.pinned_base(client, pin), pin.reference
            else:
                base, base_ref = docker_engine.base_image(client, decl.image), decl.image
            context_digest = None
            if options.build_image:
                plan = docker_image.plan_image(project, base_ref, base.id)
                ready = docker_image.ensure_image(client, project, plan)
                context_digest = plan.digest
            else:
                ready = ReadyImage(base_ref, str(base.id), built=False)
            shell = docker_shell.shell_for(client, str(base.id))
        finally:
            client.close()
        facts = EnvFacts(
            manager="docker",
            project_env="docker",
            extra_tags={
                **_rebuild_tags(decl.image, base, context_digest, pin),
                "mlflow.docker.image.uri": ready.tag,
                "mlflow.docker.image.id": ready.id,
                "mlproj.docker.code": "mounted-read-only" if not options.build_image else "copied",
            },
        )
        return DockerPrepared(project, options, ready, shell, facts)


def _rebuild_tags(
    base_name: str, base: Any, context_digest: str | None, pin: docker_pin.BasePin | None
) -> dict[str, str]:
    """What rebuilds the image elsewhere: the base by id and, when pulled from a registry, by
    digest (a tag can move); the hash of the build context (project files + base id)."""
    tags = {"mlproj.docker.base_image": base_name, "mlproj.docker.base_id": str(base.id)}
    digests = (getattr(base, "attrs", None) or {}).get("RepoDigests") or []
    if pin is not None:  # the digest it was pinned to, not whichever the image has first
        digests = [pin.digest] if pin.digest else []
        tags["mlproj.docker.base_pinned"] = pin.reference
    if digests:
        tags["mlproj.docker.base_digest"] = str(digests[0])
    if context_digest:
        tags["mlproj.docker.context_sha256"] = context_digest
    return tags


def _plan_images(client: Any, project: Project, options: EnvOptions, result: dict[str, Any]) -> str:
    """Fill in what exists on the engine; return the image the container would run."""
    decl = docker_decl(project)
    base_ref = decl.image
    pin = docker_pin.from_extra(options.extra)
    if pin is not None:  # mlproj reproduce: the recorded base, never the tag
        base_ref = pin.reference
        result["base_image"]["pinned"] = base_ref
    base = docker_engine.find_image(client, pin.image_id or base_ref if pin else base_ref)
    result["base_image"].update(present=base is not None, id=base.id if base else None)
    if not options.build_image:
        result["image"] = {"tag": base_ref, "action": "run the base image (--no-build)"}
        return base_ref
    if base is None:
        result["image"] = {"tag": None, "action": "pull the base image, then build"}
        return base_ref
    plan = docker_image.plan_image(project, base_ref, base.id)
    exists = docker_engine.find_image(client, plan.tag) is not None
    result["image"] = {
        "tag": plan.tag,
        "exists": exists,
        "action": "reuse" if exists else "build",
        "context_entries": len(plan.context.entries),
        "context_bytes": plan.context.size,
    }
    return plan.tag


def _warn_loopback_tracking(env: Mapping[str, str], network: str | None) -> None:
    uri = env.get("MLFLOW_TRACKING_URI", "")
    parsed = urlparse(uri)
    if parsed.scheme in ("http", "https") and parsed.hostname in _LOOPBACK and network != "host":
        output.warning(
            f"the tracking server {uri} is on this machine's loopback address, "
            "which a container cannot reach (use --network host, or the host's address)"
        )


MANAGER = DockerManager()
