"""`mlproj describe PATH`: the project's name, environment and entry points."""

from __future__ import annotations

import json
from typing import Any

import click

from mlproj.commands.validate import local_or_fetched


@click.command()
@click.argument("path", default=".")
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
def command(path: str, as_json: bool) -> None:
    """Show the project at PATH: its environment and each entry point with its parameters."""
    from mlproj.spec import describe_project, load_project

    directory = local_or_fetched(path)
    project = load_project(directory.parent if directory.is_file() else directory)
    data = describe_project(project)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo("\n".join(format_description(data)))


def format_description(data: dict[str, Any]) -> list[str]:
    env = data["env"]
    where = env.get("image") or env.get("file")
    lines = [
        f"name: {data['name'] or '(none)'}",
        f"environment: {env['type']}" + (f" ({where})" if where else ""),
    ]
    if not data["entry_points"]:
        lines.append("entry points: none declared (run a script with -e FILE.py / FILE.sh)")
    else:
        lines.append("entry points:")
    for name, ep in data["entry_points"].items():
        lines.append(f"  {name}: {ep['command']}")
        if "error" in ep:
            lines.append(f"    error: {ep['error']}")
        params = ep["parameters"]
        name_width = max((len(n) for n in params), default=0)
        type_width = max((len(p["type"]) for p in params.values()), default=0)
        for pname, param in params.items():
            default = (
                "required"
                if param["default"] is None
                else f"default {json.dumps(param['default'])}"
            )
            lines.append(f"    {pname:<{name_width}}  {param['type']:<{type_width}}  {default}")
    return lines
