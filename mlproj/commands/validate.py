"""`mlproj validate PATH`: report every problem of a project's files; exit 1 if any is an error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


def local_or_fetched(path: str) -> Path:
    """A local file or directory as given; anything else is fetched (a git URL, a zip,
    `#subdir`)."""
    from mlproj.sources.uri import is_zip_uri

    if Path(path).exists() and not is_zip_uri(path):
        return Path(path)
    from mlproj.sources import fetch_project  # only for URLs: keeps local validation light

    return fetch_project(path).directory


@click.command()
@click.argument("path", default=".")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def command(path: str, strict: bool, as_json: bool) -> None:
    """Check the MLproject (and its environment file) at PATH, a directory or an MLproject file.

    Each problem is printed as FILE:LINE:COL: severity: message. Warnings flag what MLflow
    silently accepts but is probably a mistake; --strict makes them errors. Exit status 0
    means valid, 1 means at least one error.
    """
    from mlproj.spec.validate import validate_path

    problems = validate_path(local_or_fetched(path), strict=strict)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": path,
                    "valid": errors == 0,
                    "errors": errors,
                    "warnings": warnings,
                    "problems": [
                        {
                            "file": str(p.file),
                            "line": p.line,
                            "column": p.column,
                            "severity": p.severity,
                            "message": p.message,
                        }
                        for p in problems
                    ],
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            click.echo(str(problem))
        verdict = "invalid" if errors else "valid"
        click.echo(
            f"{path}: {verdict} ({_count(errors, 'error')}, {_count(warnings, 'warning')})",
            err=True,
        )
    if errors:
        sys.exit(1)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
