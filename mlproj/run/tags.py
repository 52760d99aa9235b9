"""The tags recorded on a run: MLflow's own set, plus mlproj's under `mlproj.*`."""

from __future__ import annotations

import getpass
import os
import shlex
from collections.abc import Sequence

from mlproj import __version__
from mlproj.sources.base import FetchedProject
from mlproj.sources.uri import scrub


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


_DOCKER_ARG_OPTIONS = ("-A", "--docker-args")
_ENV_ARG_NAMES = ("e", "env")


def redact_docker_env(argv: Sequence[str]) -> list[str]:
    """`-A env=NAME=secret` keeps `NAME` but not its value in anything we record."""
    result: list[str] = []
    for index, arg in enumerate(argv):
        name, sep, value = arg.partition("=")
        if index and argv[index - 1] in _DOCKER_ARG_OPTIONS and sep and name in _ENV_ARG_NAMES:
            variable, has_value, _ = value.partition("=")
            arg = f"{name}={variable}=***" if has_value else arg
        result.append(arg)
    return result


def creation_tags(
    fetched: FetchedProject, entry_point: str, argv: Sequence[str], backend: str = "local"
) -> dict[str, str]:
    tags = {
        "mlflow.user": current_user(),
        "mlflow.source.name": fetched.source_name,
        "mlflow.source.type": "PROJECT",
        "mlflow.project.entryPoint": entry_point,
        "mlflow.project.backend": backend,
        "mlproj.version": __version__,
        "mlproj.host": os.uname().nodename,  # gethostname(), without loading socket
        "mlproj.command": scrub(shlex.join(redact_docker_env(argv))),  # no tokens, no secrets
    }
    git = fetched.git
    if git is not None:
        tags["mlflow.source.git.commit"] = git.commit
        tags["mlproj.git.dirty"] = "true" if git.dirty else "false"
        if git.repo_url:
            tags["mlflow.source.git.repoURL"] = git.repo_url
        if git.branch:
            tags["mlflow.source.git.branch"] = git.branch
        if git.tag:
            tags["mlproj.git.tag"] = git.tag
    if fetched.version:
        tags["mlproj.source.version"] = fetched.version
    return tags
