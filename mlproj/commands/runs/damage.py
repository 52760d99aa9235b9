"""Name every damaged file a command met in the store, after its normal output."""

from __future__ import annotations

import click

from mlproj import output
from mlproj.tracking.base import Store


def warn_damage(store: Store) -> None:
    damage: dict[str, str] = getattr(store, "damage", {})
    for path, what in sorted(damage.items()):
        output.warning(f"skipped {path}: {what}")
    if damage:
        output.note("`mlproj runs doctor` lists every problem of the store")


def doctor(store: Store, fix: bool) -> int:
    """Print every finding of `runs doctor`; the exit code (0: nothing left to fix)."""
    from mlproj.errors import UsageError
    from mlproj.tracking.stores.file import FileStore
    from mlproj.tracking.stores.file_doctor import examine

    if not isinstance(store, FileStore):
        raise UsageError("`mlproj runs doctor` checks file stores (mlruns/ directories) only")
    try:
        findings = examine(store.root, fix)
    except FileNotFoundError:
        findings = []
    for found in findings:
        done = f" -> fixed: {found.fixed}" if found.fixed else ""
        click.echo(f"{found.path}: {found.problem}{done}")
    left = [f for f in findings if not f.fixed]
    output.note(f"{len(findings)} problem(s), {len(findings) - len(left)} fixed")
    return 1 if left else 0
