"""`mlproj env`: list, create, remove and prune cached environments."""

from __future__ import annotations

import json
from pathlib import Path

import click

from mlproj import output
from mlproj.commands.options import older_than_option
from mlproj.envs import MANAGERS


@click.group()
def command() -> None:
    """List, create and remove cached environments."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of objects.")
def list_cmd(as_json: bool) -> None:
    """Show cached environments: key, manager, size, last use, path."""
    from mlproj.envs import admin, cache

    envs = cache.list_envs()
    if as_json:
        click.echo(json.dumps([admin.env_record(env) for env in envs], indent=2))
    elif envs:
        for line in admin.table(envs):
            click.echo(line)
    else:
        output.note("no cached environments")


@command.command("create")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option(
    "--env-manager",
    type=click.Choice(sorted(MANAGERS)),
    help="Environment manager; by default the project's env file decides.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was built as JSON.")
def create_cmd(path: Path, env_manager: str | None, as_json: bool) -> None:
    """Build the environment of the project at PATH ahead of a run (reused if cached)."""
    from mlproj.envs import admin

    result = admin.create(path, env_manager)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        where = result.get("path", "(nothing to build)")
        click.echo(f"{result['manager']} environment ready: {where}")


@command.command("rm")
@click.argument("key")
def rm_cmd(key: str) -> None:
    """Remove the cached environment KEY (a unique prefix of it is enough)."""
    from mlproj.envs import cache

    env = cache.remove_env(key)
    click.echo(f"removed {env.key} ({env.manager}, {output.human_size(env.size_bytes)})")


@command.command("prune")
@older_than_option("Remove environments not used for AGE (s, m, h, d or w; e.g. 12h, 30d).")
def prune_cmd(older_than: str) -> None:
    """Remove environments that no run used recently."""
    from mlproj.envs import admin, cache

    removed = cache.prune(admin.parse_age(older_than))
    for env in removed:
        click.echo(f"removed {env.key} ({env.manager}, {output.human_size(env.size_bytes)})")
    freed = output.human_size(sum(env.size_bytes for env in removed))
    output.note(f"removed {len(removed)} environment(s), {freed} freed")
