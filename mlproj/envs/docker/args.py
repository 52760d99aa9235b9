"""`-A name=value` / `-A flag` (MLflow's --docker-args) mapped to docker SDK keyword arguments.

MLflow pastes these into a shell string; here each supported option becomes a typed SDK argument
and anything else is refused, so MLproject content can never inject shell text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlproj.errors import EnvError


def _cpus(value: str) -> int:
    return int(float(value) * 1e9)


# option -> (SDK keyword, converter) for options that take one value
_VALUED: dict[str, tuple[str, Callable[[str], Any]]] = {
    "memory": ("mem_limit", str),
    "memory-swap": ("memswap_limit", str),
    "memory-reservation": ("mem_reservation", str),
    "cpus": ("nano_cpus", _cpus),
    "cpu-shares": ("cpu_shares", int),
    "cpuset-cpus": ("cpuset_cpus", str),
    "pids-limit": ("pids_limit", int),
    "user": ("user", str),
    "ipc": ("ipc_mode", str),
    "pid": ("pid_mode", str),
    "uts": ("uts_mode", str),
    "hostname": ("hostname", str),
    "name": ("name", str),
    "runtime": ("runtime", str),
    "platform": ("platform", str),
    "stop-signal": ("stop_signal", str),
}
# option -> SDK keyword whose value is a list (the option may be repeated)
_LISTED = {
    "cap-add": "cap_add",
    "cap-drop": "cap_drop",
    "device": "devices",
    "security-opt": "security_opt",
    "dns": "dns",
    "group-add": "group_add",
}
_FLAGS = {"privileged": "privileged", "read-only": "read_only"}
# handled by the container settings, not as plain SDK keywords
_SPECIAL = ("env", "volume", "network", "shm-size", "gpus", "ulimit", "add-host", "label", "tmpfs")
# accepted for compatibility with `mlflow run -A ...`; they change nothing here because output
# is always streamed and the container is always removed
_NO_OP = ("rm", "tty", "interactive", "detach", "init")
_ALIASES = {
    "m": "memory",
    "c": "cpu-shares",
    "u": "user",
    "h": "hostname",
    "e": "env",
    "v": "volume",
    "net": "network",
    "l": "label",
    "t": "tty",
    "i": "interactive",
    "d": "detach",
}

SUPPORTED = tuple(sorted({*_VALUED, *_LISTED, *_FLAGS, *_SPECIAL, *_NO_OP, *_ALIASES}))


@dataclass(frozen=True)
class DockerArgs:
    """The -A options, sorted into what each part of the container settings needs."""

    kwargs: Mapping[str, Any] = field(default_factory=dict)  # plain SDK keywords
    env: tuple[str, ...] = ()  # `NAME=value` or `NAME` (copied from the host)
    volumes: tuple[str, ...] = ()
    network: str | None = None
    shm_size: str | None = None
    gpus: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    names: tuple[str, ...] = ()  # the options given, for plan output


def parse(args: Sequence[tuple[str, str | None]]) -> DockerArgs:
    kwargs: dict[str, Any] = {}
    special: dict[str, list[str]] = {name: [] for name in _SPECIAL}
    names: list[str] = []
    for raw_name, value in args:
        name = _canonical(raw_name)
        names.append(name)
        if name in _NO_OP:
            continue
        if name in _FLAGS:
            kwargs[_FLAGS[name]] = _flag(name, value)
            continue
        text = _value(name, value)
        if name in _VALUED:
            keyword, convert = _VALUED[name]
            kwargs[keyword] = _convert(name, text, convert)
        elif name in _LISTED:
            kwargs.setdefault(_LISTED[name], []).append(text)
        else:
            special[name].append(text)
    _put_special(kwargs, special)
    return DockerArgs(
        kwargs=kwargs,
        env=tuple(special["env"]),
        volumes=tuple(special["volume"]),
        network=_last(special["network"]),
        shm_size=_last(special["shm-size"]),
        gpus=_last(special["gpus"]),
        labels=dict(_split_pair("label", item, "=") for item in special["label"]),
        names=tuple(names),
    )


def _canonical(raw: str) -> str:
    name = raw.strip().lstrip("-").replace("_", "-").lower()
    name = _ALIASES.get(name, name)
    if name not in SUPPORTED:
        raise EnvError(
            f"-A {raw} is not a supported docker option",
            "supported: " + ", ".join(SUPPORTED),
        )
    return name


def _flag(name: str, value: str | None) -> bool:
    if value is None or value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise EnvError(f"-A {name}={value}: {name} is a flag", f"write -A {name} or -A {name}=false")


def _value(name: str, value: str | None) -> str:
    if value is None or value == "":
        raise EnvError(f"-A {name} needs a value", f"write -A {name}=VALUE")
    return value


def _convert(name: str, text: str, convert: Callable[[str], Any]) -> Any:
    try:
        return convert(text)
    except ValueError as exc:
        raise EnvError(f"-A {name}={text}: not a valid value for {name}") from exc


def _last(values: list[str]) -> str | None:
    return values[-1] if values else None


def _split_pair(name: str, item: str, sep: str) -> tuple[str, str]:
    key, found, value = item.partition(sep)
    if not found or not key:
        raise EnvError(f"-A {name}={item}: expected KEY{sep}VALUE")
    return key, value


def _put_special(kwargs: dict[str, Any], special: Mapping[str, list[str]]) -> None:
    if special["ulimit"]:
        kwargs["ulimits"] = [_ulimit(item) for item in special["ulimit"]]
    if special["add-host"]:
        kwargs["extra_hosts"] = dict(
            _split_pair("add-host", item, ":") for item in special["add-host"]
        )
    if special["tmpfs"]:
        kwargs["tmpfs"] = dict(_tmpfs(item) for item in special["tmpfs"])


def _ulimit(item: str) -> Any:
    from docker.types import Ulimit

    name, limits = _split_pair("ulimit", item, "=")
    soft, _, hard = limits.partition(":")
    try:
        return Ulimit(name=name, soft=int(soft), hard=int(hard or soft))
    except ValueError as exc:
        raise EnvError(f"-A ulimit={item}: expected NAME=SOFT[:HARD] with numbers") from exc


def _tmpfs(item: str) -> tuple[str, str]:
    path, _, options = item.partition(":")
    return path, options
