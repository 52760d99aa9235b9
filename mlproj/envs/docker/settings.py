"""How the container of a run is set up: mounts, environment, GPUs, network and -A options.

Values of environment variables may be secrets: they only ever go to the SDK's `environment=`
(the container's env), never into an image, a command line, a log line or `describe()`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlproj.envs.base import EnvOptions
from mlproj.envs.docker import args as docker_args
from mlproj.envs.docker.context import CODE_DIR
from mlproj.errors import EnvError
from mlproj.spec.model import DockerEnv, Project

RUN_LABEL = "mlproj.run"  # set to "1" on every container mlproj starts
RUN_ID_LABEL = "mlproj.run-id"
PROJECT_LABEL = "mlproj.project"
_PASSED_PREFIXES = ("MLFLOW_",)  # host variables a container gets (plus the project's own)
_NAMED_VOLUME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class ContainerSettings:
    image: str
    project: str
    binds: tuple[str, ...]  # HOST:CONTAINER[:MODE]
    env: Mapping[str, str] = field(repr=False)  # may hold secrets: never print it
    labels: Mapping[str, str]
    network: str | None
    shm_size: str | None
    gpus: str | None
    kwargs: Mapping[str, Any]  # further SDK keywords from -A
    keep: bool = False

    def create_kwargs(self, argv: list[str]) -> dict[str, Any]:
        """Keyword arguments of `client.containers.create` for running `argv`."""
        kwargs: dict[str, Any] = dict(self.kwargs)
        kwargs.update(
            image=self.image,
            command=argv,
            working_dir=CODE_DIR,
            environment=dict(self.env),
            labels=dict(self.labels),
            volumes=list(self.binds),
            init=True,  # PID 1 forwards signals to the command and reaps its children
            detach=True,
            stdin_open=False,
            tty=False,
        )
        if self.network is not None:
            kwargs["network_mode"] = self.network
        if self.shm_size is not None:
            kwargs["shm_size"] = self.shm_size
        if self.gpus is not None:
            kwargs["device_requests"] = device_requests(self.gpus)
        return kwargs

    def describe(self) -> dict[str, Any]:
        """JSON-able, for `run --dry-run`: variable names only, never their values."""
        return {
            "image": self.image,
            "workdir": CODE_DIR,
            "volumes": list(self.binds),
            "environment": sorted(self.env),
            "labels": dict(self.labels),
            "network": self.network or "(engine default)",
            "gpus": self.gpus,
            "shm_size": self.shm_size,
            "options": {k: _describe_value(v) for k, v in sorted(self.kwargs.items())},
            "init": True,
            "keep_container": self.keep,
        }


def _describe_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def settings(
    project: Project,
    options: EnvOptions,
    image: str,
    *,
    mount_code: bool,
    env_source: Mapping[str, str],
) -> ContainerSettings:
    """The container settings of a run; `env_source` is the child environment of the run."""
    decl = docker_decl(project)
    args = docker_args.parse(options.docker_args)
    binds = [resolve_volume(v, project.directory, "docker_env volumes") for v in decl.volumes]
    binds += [resolve_volume(v, project.directory, "-A volume") for v in args.volumes]
    if mount_code:
        binds.append(f"{project.directory}:{CODE_DIR}:ro")
    binds += _tracking_binds(env_source, binds)
    name = _label_project(project)
    labels = {**args.labels, RUN_LABEL: "1", PROJECT_LABEL: name}
    if env_source.get("MLFLOW_RUN_ID"):
        labels[RUN_ID_LABEL] = env_source["MLFLOW_RUN_ID"]
    return ContainerSettings(
        image=image,
        project=name,
        binds=tuple(binds),
        env=container_env(decl, args, env_source),
        labels=labels,
        network=options.network or args.network,
        shm_size=options.shm_size or args.shm_size,
        gpus=options.gpus or args.gpus or decl.gpus,
        kwargs=args.kwargs,
        keep=options.keep_container,
    )


def docker_decl(project: Project) -> DockerEnv:
    decl = project.env.docker
    if decl is None:
        raise EnvError(f"project {project.directory} has no docker_env section")
    return decl


def _label_project(project: Project) -> str:
    return project.name or project.directory.name


def container_env(
    decl: DockerEnv, args: docker_args.DockerArgs, source: Mapping[str, str]
) -> dict[str, str]:
    """MLFLOW_* from the run, then the project's `environment`, then -A env (later wins)."""
    env = {k: v for k, v in source.items() if k.startswith(_PASSED_PREFIXES)}
    env["PYTHONUNBUFFERED"] = "1"  # output goes through a pipe: keep it live
    wanted: list[tuple[str, str | None, str]] = [
        (name, value, "docker_env environment") for name, value in decl.environment
    ]
    for item in args.env:
        name, has_value, value = item.partition("=")
        wanted.append((name, value if has_value else None, "-A env"))
    missing = [(n, where) for n, value, where in wanted if value is None and n not in source]
    if missing:
        names = ", ".join(name for name, _ in missing)
        raise EnvError(
            f"{missing[0][1]} copies {names} from this machine, but "
            f"{'it is' if len(missing) == 1 else 'they are'} not set",
            f"export {names} before running, or give a value in the MLproject: [NAME, VALUE]",
        )
    for name, given, _ in wanted:
        env[name] = given if given is not None else source[name]
    return env


def resolve_volume(spec: str, project_dir: Path, where: str) -> str:
    """HOST:CONTAINER[:MODE] with `~`/`$VAR` expanded and a relative HOST made absolute
    against the project directory. A bare HOST name is a named volume, as for `docker run`."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise EnvError(f"{where}: {spec!r} is not HOST:CONTAINER[:MODE]")
    host, container = parts[0], parts[1]
    if not container.startswith("/"):
        raise EnvError(f"{where}: {spec!r}: the container path must be absolute")
    host = os.path.expandvars(os.path.expanduser(host))
    if not _NAMED_VOLUME.match(host) and not os.path.isabs(host):
        host = str((project_dir / host).resolve())
    return ":".join([host, container, *parts[2:]])


def _tracking_binds(env: Mapping[str, str], binds: list[str]) -> list[str]:
    """A local tracking store, mounted at the same absolute path so that code inside logs into
    the same run (its artifact paths are absolute host paths under the store)."""
    path = local_store_dir(env.get("MLFLOW_TRACKING_URI", ""))
    if path is None:
        return []
    taken = {b.split(":")[1] for b in binds}
    return [] if str(path) in taken else [f"{path}:{path}:rw"]


def local_store_dir(uri: str) -> Path | None:
    """The host directory of a local file or sqlite store, else None."""
    if not uri:
        return None
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") and not parsed.netloc:
        path = Path(unquote(parsed.path))
        return path if path.is_absolute() else None
    if parsed.scheme == "sqlite":
        db = uri.split(":///", 1)[1] if ":///" in uri else ""
        return Path(db).parent if db.startswith("/") else None
    return None


def device_requests(gpus: str) -> list[Any]:
    """`all`, `N`, `count=N` or `device=ID[,ID...]`, as for `docker run --gpus`."""
    from docker.types import DeviceRequest

    text = gpus.strip().strip("\"'")
    capabilities = [["gpu"]]
    if text == "all":
        return [DeviceRequest(count=-1, capabilities=capabilities)]
    count = text.removeprefix("count=")
    if count.isdigit():
        return [DeviceRequest(count=int(count), capabilities=capabilities)]
    if text.startswith("device=") and text[7:]:
        return [DeviceRequest(device_ids=text[7:].split(","), capabilities=capabilities)]
    raise EnvError(f"gpus {gpus!r} is not a GPU request", "use all, a count (2), or device=0,1")
