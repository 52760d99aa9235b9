"""`mlproj lock [PATH] [-p PLATFORM ...]`: write conda-lock.yml beside a project's conda.yml."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("lock")
@click.argument("path", required=False, default=".", type=click.Path(path_type=Path))
@click.option(
    "-p",
    "--platform",
    "platforms",
    multiple=True,
    metavar="PLATFORM",
    help="Conda platform to lock (repeatable), e.g. linux-64, osx-arm64. "
    "Default: this machine's, plus those the existing lock covers.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(path: Path, platforms: tuple[str, ...], as_json: bool) -> None:
    """Solve a project's conda environment and write conda-lock.yml next to its conda.yml.

    PATH is a project directory (default: the current one) or a conda.yml file. Runs install
    exactly the locked packages while the lock matches conda.yml.
    """
    from mlproj.envs.conda.lockfile import lock_project

    result = lock_project(path, platforms)
    summary = {
        lock.platform: {
            "conda": [f"{r.name.normalized}={r.version}={r.build}" for r in lock.conda],
            "pip": [f"{pin.name}=={pin.version}" for pin in lock.pip],
        }
        for lock in result.platforms
    }
    if as_json:
        click.echo(json.dumps({"lockfile": str(result.path), "platforms": summary}, indent=2))
        return
    for platform, found in summary.items():
        pip = f" + {len(found['pip'])} pip" if found["pip"] else ""
        click.echo(f"{platform}: {len(found['conda'])} conda{pip} packages")
    click.echo(f"wrote {result.path}")
