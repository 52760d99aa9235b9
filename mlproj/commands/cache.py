"""`mlproj cache prune`: remove what no run used recently, or the least recently used beyond a
total size; never what a running run holds."""

from __future__ import annotations

import functools
import os
import re
import time
from pathlib import Path

import click

from mlproj import output
from mlproj._util.prunable import Prunable
from mlproj.commands.options import older_than_option
from mlproj.envs.cache import CachedEnv

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*\Z", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 500m, 20g)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


@click.group()
def command() -> None:
    """Manage mlproj's caches (environments, git checkouts, zip copies, docker images)."""


@command.command("prune")
@older_than_option("Remove what no run used for AGE (s, m, h, d or w).")
@click.option(
    "--max-size",
    metavar="SIZE",
    help="Then remove the least recently used until the caches hold at most SIZE (e.g. 20g).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be removed.")
@click.option("--no-docker", is_flag=True, help="Leave docker images alone.")
@click.option(
    "--images",
    default="mlproj-*",
    show_default=True,
    metavar="PATTERN",
    help="Only docker images whose tag matches PATTERN (e.g. 'mlproj-myproject:*').",
)
def prune_cmd(
    older_than: str, max_size: str | None, dry_run: bool, no_docker: bool, images: str
) -> None:
    """Remove cached environments, git checkouts, zip copies and mlproj-* docker images.

    Anything a running run holds (a leased checkout or copy, an environment a live process
    runs in, an image a container uses) is left alone."""
    from mlproj.envs import admin

    cutoff = time.time() - admin.parse_age(older_than)
    limit = parse_size(max_size) if max_size else None
    items = sorted(_everything(None if no_docker else images), key=lambda i: i.last_used)
    total = sum(i.size_bytes for i in items)
    freed = 0
    for item in items:
        if item.last_used >= cutoff and (limit is None or total - freed <= limit):
            continue
        if dry_run:
            click.echo(
                f"would remove {item.kind} {item.name} ({output.human_size(item.size_bytes)})"
            )
            freed += item.size_bytes
        elif item.remove():
            click.echo(f"removed {item.kind} {item.name} ({output.human_size(item.size_bytes)})")
            freed += item.size_bytes
        else:
            click.echo(f"kept {item.kind} {item.name}: in use by a running run", err=True)
    output.note(
        f"{output.human_size(freed)} {'would be ' if dry_run else ''}freed, "
        f"{output.human_size(total - freed)} left"
    )


def _everything(images: str | None) -> list[Prunable]:
    from mlproj.envs import cache
    from mlproj.sources.prune import leased_copies

    found = [
        Prunable(
            "environment",
            f"{env.key[:12]} ({env.manager})",
            env.size_bytes,
            env.last_used,
            functools.partial(_remove_env, env),
        )
        for env in cache.list_envs()
    ]
    found += leased_copies()
    if images is not None:
        from mlproj.envs.docker.prune import mlproj_images

        found += mlproj_images(images)
    return found


def _remove_env(env: CachedEnv) -> bool:
    from mlproj.envs import cache

    return not _used_by_a_process(env.path) and cache.remove_if_free(env)


def _used_by_a_process(env_path: Path) -> bool:
    """Does a live process run in the env? (it has the env's path in its environment: PATH,
    VIRTUAL_ENV or CONDA_PREFIX, as every activated run does)."""
    needle = str(env_path).encode()
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if needle in handle.read():
                    return True
        except OSError:
            continue
    return False
