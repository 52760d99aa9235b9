"""The Docker engine: connecting to it, and finding (or, if absent, pulling) a base image.

The docker SDK is imported inside functions: `mlproj --help` must not pay for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from mlproj.errors import EnvError

DEFAULT_HOST = "unix:///var/run/docker.sock"
_PROBE_TIMEOUT = 15  # seconds for the first request: an engine that does not answer is an error


def engine_url() -> str:
    """What `connect` tries: DOCKER_HOST, else the default socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def connect(*, streaming: bool = False) -> Any:
    """A `docker.DockerClient` for the engine at `engine_url()`, or a one-line EnvError.

    With `streaming`, requests have no read timeout (builds, attached output and waits can be
    silent for as long as the command is).
    """
    import docker
    from docker.errors import DockerException

    url = engine_url()
    try:
        if url.startswith("unix://") and not os.path.exists(url.removeprefix("unix://")):
            # no engine there; and docker-py leaves the socket it fails to connect unclosed
            raise FileNotFoundError(url)
        client = docker.from_env(timeout=_PROBE_TIMEOUT)
        client.ping()
    except (DockerException, OSError) as exc:
        raise EnvError(
            f"no Docker engine answers at {url}",
            "start one (`sudo systemctl start docker`, or run `dockerd`), "
            "or set DOCKER_HOST to the engine's address",
        ) from exc
    if streaming:
        client.api.timeout = None
    return client


def first_line(exc: BaseException) -> str:
    """The engine's own explanation of an SDK error, on one line."""
    explanation = getattr(exc, "explanation", None) or str(exc)
    text = explanation.decode() if isinstance(explanation, bytes) else str(explanation)
    return " ".join(text.split())


def find_image(client: Any, name: str) -> Any | None:
    """The local image `name` (a tag or an id), or None."""
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name)
    except ImageNotFound:
        return None


def base_image(client: Any, name: str) -> Any:
    """The local base image; pulled only when absent. A failed pull is a one-line EnvError."""
    image = find_image(client, name)
    if image is not None:
        return image
    _pull(client, name)
    image = find_image(client, name)
    if image is None:
        raise EnvError(f"docker image {name!r} is not available after pulling it")
    return image


def _pull(client: Any, name: str) -> None:
    from docker.utils import parse_repository_tag

    repo, tag = parse_repository_tag(name)
    if tag is None:
        tag = "latest"
    hint = (
        f"build or load it first (`docker build -t {name} .`, `docker load`), "
        "or name an image that exists (`docker images`)"
    )
    pull(
        client,
        repo,
        tag,
        f"docker image {name!r} is not on this engine and pulling it failed",
        hint,
    )


def pull(client: Any, repo: str, tag: str, failed: str, hint: str) -> None:
    """Pull `repo` at `tag` (a tag, or the `sha256:...` of a digest); a failure is one EnvError
    line, `failed: <the engine's reason>`."""
    from docker.errors import DockerException

    try:
        errors = event_errors(read_events(client.api.pull(repo, tag=tag, stream=True, decode=True)))
    except DockerException as exc:
        raise EnvError(f"{failed}: {first_line(exc)}", hint) from exc
    if errors:
        raise EnvError(f"{failed}: {' '.join(errors[0].split())}", hint)


def read_events(stream: Iterable[Any]) -> list[dict[str, Any]]:
    """A decoded event stream of the engine (pull, push), read to its end even after an error:
    a stream left half read keeps its socket open until the garbage collector closes it."""
    return [event for event in stream if isinstance(event, dict)]


def event_errors(events: Iterable[dict[str, Any]]) -> list[str]:
    return [str(event["error"]) for event in events if event.get("error")]
