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

    bundle_problems = _bundle_problems(path)
    problems = validate_path(local_or_fetched(path), strict=strict)
    errors = sum(p.severity == "error" for p in problems) + len(bundle_problems)
    warnings = len(problems) - errors
    if as_json:
        click.echo(
            json.dumps(
                {
                    "path": path,
                    "valid": errors == 0,
                    "errors": errors,
                    "warnings": warnings,
                    "bundle_problems": bundle_problems,
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
        for text in bundle_problems:
            click.echo(f"{path}: error: {text}")
        for problem in problems:
            click.echo(str(problem))
        verdict = "invalid" if errors else "valid"
        click.echo(
            f"{path}: {verdict} ({_count(errors, 'error')}, {_count(warnings, 'warning')})",
            err=True,
        )
    if errors:
        sys.exit(1)


def _bundle_problems(path: str) -> list[str]:
    """A local zip with a `mlproj pack` manifest is checked against it (hashes, file list)."""
    from mlproj.sources.zip.manifest import MANIFEST_NAME, check_bundle

    bundle = Path(path)
    if bundle.suffix != ".zip" or not bundle.is_file():
        return []
    import zipfile

    try:
        with zipfile.ZipFile(bundle) as archive:
            if MANIFEST_NAME not in archive.namelist():
                return []  # a plain project zip: nothing to check it against
    except zipfile.BadZipFile:
        return ["not a zip archive"]
    return check_bundle(bundle)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
