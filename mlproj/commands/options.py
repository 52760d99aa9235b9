"""Click options that several verbs declare alike, written once (each verb gives its own help)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def backend_config_option(help: str) -> Callable[[F], F]:
    """`-c/--backend-config`, repeatable: `run` and `sweep` parse it with backend_config_from."""
    return click.option(
        "-c",
        "--backend-config",
        "backend_config",
        multiple=True,
        metavar="FILE|JSON|KEY=VALUE",
        help=help,
    )


def older_than_option(help: str) -> Callable[[F], F]:
    """`--older-than AGE` of the prune verbs, read with envs.admin.parse_age."""
    return click.option("--older-than", default="30d", show_default=True, metavar="AGE", help=help)
