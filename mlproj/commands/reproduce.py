"""`mlproj reproduce RUN`: re-run a recorded run from its recorded source and lock; compare."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from mlproj import output
from mlproj._util.record import replace
from mlproj.commands.run import param_list_option, parse_pairs

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _tolerance(name: str, help: str) -> Callable[[F], F]:
    """--rtol or --atol: a number >= 0; both 0 (the default) asks for bit-identical metrics."""
    return click.option(
        name, type=click.FloatRange(min=0), default=0.0, show_default=True, help=help
    )


@click.command()
@click.argument("run_ref", metavar="RUN")
@click.option(
    "--tracking-uri",
    metavar="URI",
    help="Store of the run [default: from a UI URL, else $MLFLOW_TRACKING_URI, else ./mlruns].",
)
@click.option(
    "--to-tracking-uri",
    metavar="URI",
    help="Store to record the reproduction in [default: the run's own store].",
)
@param_list_option(
    "NAME=VALUE", "Override a recorded parameter (recorded as an override); repeatable."
)
@_tolerance("--rtol", "Relative tolerance.")
@_tolerance("--atol", "Absolute tolerance.")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def command(
    run_ref: str,
    tracking_uri: str | None,
    to_tracking_uri: str | None,
    params: tuple[str, ...],
    rtol: float,
    atol: float,
    as_json: bool,
) -> None:
    """Re-run RUN exactly as recorded and compare its final metrics.

    RUN is a run id (or a unique prefix), runs:/ID, or an MLflow UI run URL. The source is
    fetched at the recorded commit (with the saved diff or snapshot), the environment is
    rebuilt from the recorded lock without solving, and the recorded entry point runs with the
    recorded parameters. Exit 0 only when every metric agrees (with --rtol/--atol; default:
    bit-identical).
    """
    from mlproj.commands.runref import parse_run_ref
    from mlproj.commands.runs.metricdiff import compare_metrics, render_rows, rows_json
    from mlproj.run import reproduce, runner
    from mlproj.tracking import lookup, open_store, resolve_tracking_uri

    ref = parse_run_ref(run_ref, tracking_uri)
    source_uri = resolve_tracking_uri(ref.tracking_uri)
    source_store = open_store(source_uri)
    original = lookup.find_run(source_store, ref.run)
    target_uri = resolve_tracking_uri(to_tracking_uri) if to_tracking_uri else source_uri
    with tempfile.TemporaryDirectory(prefix="mlproj-reproduce-") as scratch:
        plan = reproduce.prepare(
            source_store,
            original,
            Path(scratch),
            overrides=parse_pairs(params, "-P"),
            tracking_uri=target_uri,
            argv=("mlproj", *sys.argv[1:]),
        )
        if target_uri == source_uri:  # beside the original, in its experiment
            plan = dataclasses.replace(
                plan,
                request=replace(plan.request, experiment_id=original.info.experiment_id),
            )
        runner.dry_run(plan.request)  # everything checked (interpreter, lock) before a run exists
        output.note(
            f"reproducing run {original.info.run_id} "
            f"({plan.env_manager or 'project env'}"
            f"{', from ' + plan.lock if plan.lock else ''})"
        )
        with _stdout_to_stderr(as_json):  # --json: stdout holds the report alone
            result = runner.run(plan.request)
    new = open_store(target_uri).get_run(result.run_id)
    rows = compare_metrics(original.metrics, new.metrics, rtol, atol)
    agree = result.exit_code == 0 and all(row.agrees for row in rows)
    if as_json:
        data = {
            "original_run_id": original.info.run_id,
            "new_run_id": result.run_id,
            "status": result.status,
            "rtol": rtol,
            "atol": atol,
            "metrics": rows_json(rows),
            "reproduced": agree,
        }
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(f"original {original.info.run_id}  new {result.run_id} ({result.status})")
        click.echo(render_rows(rows))
        verdict = "reproduced" if agree else "NOT reproduced"
        tolerance = f" (rtol {rtol:g}, atol {atol:g})" if rtol or atol else " (bit-identical)"
        click.echo(f"{verdict}{tolerance}")
    sys.exit(0 if agree else 1)
