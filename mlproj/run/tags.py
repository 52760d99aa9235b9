"""The tags recorded on a run: MLflow's own set, plus mlproj's under `mlproj.*`."""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence

from mlproj import __version__
from mlproj._util.redact import redact
from mlproj.sources.base import FetchedProject
from mlproj.sources.uri import scrub


def current_user() -> str:
    """The user as getpass.getuser() finds it (getpass would also load termios: 2 M
    instructions on every run's start-up, a run never prompts)."""
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        if user := os.environ.get(variable):
            return user
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # no pwd module (Windows), or a uid with no entry
        return "unknown"


_DOCKER_ARG_OPTIONS = ("-A", "--docker-args")


def redact_docker_arg(value: str) -> str:
    """`env=NAME=secret` -> `env=NAME=***`; names spelt as the docker args parser reads them."""
    name, sep, rest = value.partition("=")
    canonical = name.strip().lstrip("-").replace("_", "-").lower()
    if sep and canonical in ("e", "env") and "=" in rest:
        return f"{name}={rest.partition('=')[0]}=***"
    return value


def redact_docker_env(argv: Sequence[str]) -> list[str]:
    """`-A env=NAME=secret` keeps `NAME` but not its value in anything we record.

    Every spelling click accepts: `-A V`, `-AV`, `--docker-args V`, `--docker-args=V`. A
    token that is really another option's value (`-e -A`) only costs an over-redaction."""
    result: list[str] = []
    takes_value = False
    for arg in argv:
        if takes_value:
            result.append(redact_docker_arg(arg))
            takes_value = False
        elif arg in _DOCKER_ARG_OPTIONS:
            result.append(arg)
            takes_value = True
        elif arg.startswith("--docker-args="):
            result.append("--docker-args=" + redact_docker_arg(arg[len("--docker-args=") :]))
        elif arg.startswith("-A"):
            result.append("-A" + redact_docker_arg(arg[2:]))
        else:
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
        # no tokens, no secrets
        "mlproj.command": redact(scrub(shlex.join(redact_docker_env(argv)))),
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
