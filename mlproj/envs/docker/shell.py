"""Which shell runs the command in an image: bash, or sh in images that have no bash.

The answer is found once per base image (a project image adds only code to it) by starting
`bash -c 'exit 0'` without an init process, where a missing bash makes the start itself fail,
and kept in the cache under the image id.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from mlproj.envs.docker import engine as docker_engine
from mlproj.paths import docker_shell_dir

PROBE_LABEL = "mlproj.probe"


def shell_for(client: Any, image_id: str) -> str:
    marker = _marker(image_id)
    try:
        return marker.read_text().strip() or "bash"
    except OSError:
        pass
    shell = "bash" if _has_bash(client, image_id) else "sh"
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(shell)
    tmp.replace(marker)
    return shell


def _marker(image_id: str) -> Path:
    return docker_shell_dir() / image_id.replace(":", "-").replace("/", "-")


def _has_bash(client: Any, image_id: str) -> bool:
    from docker.errors import DockerException

    container = client.containers.create(
        image_id,
        ["bash", "-c", "exit 0"],
        network_mode="none",
        labels={PROBE_LABEL: "1"},
        detach=True,
    )
    try:
        container.start()
    except DockerException as exc:
        text = docker_engine.first_line(exc)
        # bash is missing; any other failure will show again, better explained, at launch
        return not ("bash" in text and ("not found" in text or "no such file" in text.lower()))
    finally:
        with contextlib.suppress(DockerException):
            container.remove(force=True)
    return True
