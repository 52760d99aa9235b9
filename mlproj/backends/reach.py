"""Can a job on another host reach the tracking store? Checked before a run is submitted."""

from __future__ import annotations

import ipaddress
import os
import socket
import urllib.parse
from collections.abc import Sequence

_NODE_LOCAL_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run")


def this_host_names() -> set[str]:
    name = socket.gethostname()
    return {name, name.split(".")[0], "localhost"}


def reach_problem(tracking_uri: str, nodes: Sequence[str], here: set[str]) -> str | None:
    """Why a job on `nodes` could not use `tracking_uri`, or None. A cluster whose only node
    is this host shares everything with us; otherwise node-local paths and loopback servers
    are refused."""
    remote = [n for n in nodes if n not in here and n.split(".")[0] not in here]
    scheme = urllib.parse.urlsplit(tracking_uri).scheme
    if scheme in ("file", "sqlite", ""):
        path = _store_path(tracking_uri, scheme)
        if remote and path is not None and _under(path, _NODE_LOCAL_DIRS):
            return (
                f"the tracking store {tracking_uri} is on a path local to this host, which "
                f"the job on {', '.join(remote[:3])} cannot read"
            )
        return None
    if scheme in ("http", "https"):
        host = urllib.parse.urlsplit(tracking_uri).hostname or ""
        if remote and _loopback(host):
            return (
                f"the tracking server {tracking_uri} listens on this host's loopback address, "
                f"which the job on {', '.join(remote[:3])} cannot reach"
            )
    return None


REACH_HINT = (
    "put the file store on a filesystem the nodes share (e.g. under $HOME) or use an http "
    "tracking server the nodes can reach (--tracking-uri)"
)


def _store_path(uri: str, scheme: str) -> str | None:
    if scheme == "":
        return os.path.abspath(uri)
    parsed = urllib.parse.urlsplit(uri)
    path = urllib.parse.unquote(parsed.path)
    if scheme == "sqlite":
        path = path[1:] if path.startswith("//") else path  # sqlite:////abs/path
    return os.path.abspath(path) if path else None


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
