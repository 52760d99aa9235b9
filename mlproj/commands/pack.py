"""`mlproj pack PROJECT [-v REF] -o bundle.zip`: a deterministic, self-contained project zip."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click


@click.command()
@click.argument("project", default=".")
@click.option("-v", "--version", "version", help="Git commit, branch or tag [default: HEAD].")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The zip to write.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(project: str, version: str | None, output: Path, as_json: bool) -> None:
    """Pack PROJECT (a directory or git URL, `#subdir` allowed) at a commit into one zip.

    The zip holds the tracked files (minus .mlprojignore), a lock for the environment
    (conda-lock.yml or python_env.lock.txt, generated when absent or stale) and
    mlproj-bundle.json (sha256 of every file, source commit). Packing the same commit twice
    gives the same bytes. `mlproj run bundle.zip` installs from the lock without solving;
    `mlproj validate bundle.zip` checks it against its manifest.
    """
    from mlproj import output as say
    from mlproj.run.bundle import check_output, pack

    check_output(output)
    result = pack(project, version, Path(os.getcwd()), output)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "bundle": str(result.path),
                    "sha256": result.sha256,
                    "files": result.files,
                    "locks": list(result.locks),
                    "generated_locks": list(result.generated),
                    "commit": result.commit,
                },
                indent=2,
            )
        )
        return
    for lock in result.generated:
        say.note(f"wrote {lock} for the bundle")
    click.echo(f"{result.path}  sha256 {result.sha256}  ({result.files} files)")
