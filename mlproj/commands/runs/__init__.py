"""`mlproj runs`: list, show, compare, wait for and read the logs of recorded runs."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from mlproj import output
from mlproj._util.redact import redact
from mlproj.commands.runs.damage import warn_damage
from mlproj.tracking.base import Store

F = TypeVar("F", bound=Callable[..., Any])


def _tracking_uri(func: F) -> F:
    option = click.option(
        "--tracking-uri",
        metavar="URI",
        help="Tracking store: an mlruns path, http(s)://server, or a database URI "
        "[default: $MLFLOW_TRACKING_URI, else ./mlruns].",
    )
    return option(func)


def _store(uri: str | None) -> Store:
    from mlproj.tracking import open_store, resolve_tracking_uri

    return open_store(resolve_tracking_uri(uri))


def _style() -> Any:
    from mlproj.commands.runs.table import Style

    tty = click.get_text_stream("stdout").isatty()
    return Style(color=tty and "NO_COLOR" not in os.environ)


def _json_safe(value: Any) -> Any:
    """NaN and infinities as MLflow's REST API writes them (JSON has no such numbers)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(_json_safe(data), indent=2, sort_keys=False))


@click.group(name="runs")
def command() -> None:
    """List, show, compare and follow recorded runs."""


@command.command(name="list")
@_tracking_uri
@click.option(
    "--experiment",
    "-x",
    "experiments",
    multiple=True,
    metavar="NAME_OR_ID",
    help="Only runs of this experiment (repeatable) [default: all experiments].",
)
@click.option(
    "--filter",
    "filter_text",
    metavar="EXPR",
    help="e.g. \"params.lr > 0.01 and status = 'FINISHED'\".",
)
@click.option(
    "--sort",
    "sorts",
    multiple=True,
    metavar="[-]FIELD",
    help="Sort by a field, e.g. metrics.acc; a leading '-' sorts descending (repeatable) "
    "[default: newest first].",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Show at most N runs; 0 shows all.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print only run ids, one per line.")
def list_command(
    tracking_uri: str | None,
    experiments: tuple[str, ...],
    filter_text: str | None,
    sorts: tuple[str, ...],
    limit: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """List runs, newest first.

    \b
    A filter is conditions joined by 'and':
      params.KEY, metrics.KEY, tags.KEY   (quote keys with dots: tags.`mlflow.user`)
      status, run_name, run_id, user_id, start_time, end_time, experiment_id
      = != < <= > >= LIKE ILIKE 'NOT LIKE'  ('%' any text, '_' one character)
    An unquoted number compares numerically; a quoted value compares as text.
    """
    from mlproj.commands.runs import listing

    store = _store(tracking_uri)
    result = listing.list_runs(store, experiments, filter_text, sorts, limit or None)
    if result.warning:
        output.warning(result.warning)
    if as_json:
        names = result.experiment_names
        _echo_json([listing.run_dict(r, names.get(r.info.experiment_id)) for r in result.runs])
        warn_damage(store)
        return
    if quiet:  # for scripts: mlproj runs compare $(mlproj runs list -q --limit 2)
        for run in result.runs:
            click.echo(run.info.run_id)
        warn_damage(store)
        return
    if not result.runs:
        hint = f"; {result.hint}" if result.hint else ""
        click.echo(f"no runs found in {redact(store.uri)}{hint}", err=True)
        warn_damage(store)
        return
    from mlproj.commands.runs.table import terminal_width

    click.echo(listing.render_list(result, _style(), width=terminal_width()))
    warn_damage(store)
    if result.total > len(result.runs):
        click.echo(
            f"showing {len(result.runs)} of {result.total} runs; --limit 0 shows all", err=True
        )


@command.command(name="doctor")
@_tracking_uri
@click.option("--fix", is_flag=True, help="Repair what can be repaired; nothing is deleted.")
def doctor_command(tracking_uri: str | None, fix: bool) -> None:
    """Check a file store: damaged files, hidden experiments, orphaned RUNNING runs.

    \b
    Exit 0 when nothing is left to fix, 1 otherwise. --fix rebuilds a damaged meta.yaml (the
    damaged copy is kept beside it) and marks KILLED a RUNNING run whose owner (an mlproj on
    this host) is provably gone; a run without owner information is only reported."""
    from mlproj.commands.runs.damage import doctor

    raise SystemExit(doctor(_store(tracking_uri), fix))


@command.command(name="show")
@_tracking_uri
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
def show_command(tracking_uri: str | None, run_id: str, as_json: bool) -> None:
    """Show a run: info, params, latest metrics, tags and artifacts."""
    from mlproj.commands.runs import show

    store = _store(tracking_uri)
    details = show.run_details(store, run_id)
    if as_json:
        _echo_json(show.details_dict(details))
    else:
        click.echo(show.render_details(details))
    warn_damage(store)


@command.command(name="compare")
@_tracking_uri
@click.argument("run_ids", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_command(tracking_uri: str | None, run_ids: tuple[str, ...], as_json: bool) -> None:
    """Compare runs side by side: params (differences marked) and metrics (latest/min/max)."""
    from mlproj.commands.runs import compare

    comparison = compare.compare_runs(_store(tracking_uri), run_ids)
    if as_json:
        _echo_json(compare.comparison_dict(comparison))
    else:
        click.echo(compare.render_comparison(comparison, _style()))


@command.command(name="diff")
@_tracking_uri
@click.argument("run_a", metavar="A")
@click.argument("run_b", metavar="B")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def diff_command(tracking_uri: str | None, run_a: str, run_b: str, as_json: bool) -> None:
    """Why two runs differ: params, source, environment packages, versions, metrics.

    A and B are run ids (or prefixes) of the --tracking-uri store, or STORE_URI#RUN_ID, or
    MLflow UI run URLs, so runs of two stores can be compared.
    """
    from mlproj.commands.runref import parse_run_ref
    from mlproj.commands.runs import diff
    from mlproj.tracking import lookup

    sides = []
    for text in (run_a, run_b):
        ref = parse_run_ref(text, tracking_uri, allow_store=True)
        store = _store(ref.tracking_uri)
        sides.append(diff.Side(store, lookup.find_run(store, ref.run)))
    data = diff.diff_runs(sides[0], sides[1])
    if as_json:
        _echo_json(data)
    else:
        click.echo(diff.render(data))


@command.command(name="logs")
@_tracking_uri
@click.argument("run_id")
@click.option(
    "--stream",
    type=click.Choice(["stdout", "stderr", "both"]),
    default="both",
    show_default=True,
    help="Which saved output to print.",
)
@click.option(
    "-f",
    "--follow",
    is_flag=True,
    help="Keep printing as the run writes (e.g. after run --detach), until it ends.",
)
def logs_command(tracking_uri: str | None, run_id: str, stream: str, follow: bool) -> None:
    """Print the output a run saved (logs/stdout.txt, logs/stderr.txt)."""
    from mlproj.commands.runs import follow as following

    if follow:
        streams = {
            "stdout": click.get_binary_stream("stdout"),
            "stderr": click.get_binary_stream("stderr"),
        }

        def emit(name: str, data: bytes) -> None:
            streams[name].write(data)
            streams[name].flush()

        following.follow_logs(_store(tracking_uri), run_id, stream, emit)  # type: ignore[arg-type]
        return
    found = following.read_logs(_store(tracking_uri), run_id, stream)  # type: ignore[arg-type]
    out = click.get_binary_stream("stdout")
    for name, data in found:
        if len(found) > 1:
            out.write(f"==> {name} <==\n".encode())
        out.write(data)
        if len(found) > 1 and data and not data.endswith(b"\n"):
            out.write(b"\n")
    out.flush()


@command.command(name="wait")
@_tracking_uri
@click.argument("run_id")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Give up after this long [default: wait forever].",
)
def wait_command(tracking_uri: str | None, run_id: str, timeout: float | None) -> None:
    """Wait until a run ends; print its status; exit 0 if it FINISHED, 1 otherwise."""
    from mlproj.commands.runs import follow
    from mlproj.tracking.base import TERMINAL_STATUSES

    run = follow.wait_for_run(_store(tracking_uri), run_id, timeout)
    click.echo(run.info.status)
    if run.info.status not in TERMINAL_STATUSES:
        output.note(f"run {run.info.run_id} is still {run.info.status} after {timeout:g}s")
    # SystemExit, not ctx.exit: cli.main runs click with standalone_mode=False, where an
    # Exit code is returned to __main__ and lost.
    raise SystemExit(0 if run.info.status == "FINISHED" else 1)


@command.command(name="sync")
@click.option(
    "--tracking-uri",
    metavar="URI",
    help="Only runs of this store [default: every store with runs waiting].",
)
def sync_command(tracking_uri: str | None) -> None:
    """Send run endings kept while their store was away (status, tags, logs)."""
    from mlproj.run.ending import deliver_pending
    from mlproj.tracking import resolve_tracking_uri

    only = resolve_tracking_uri(tracking_uri) if tracking_uri else None
    done, failures = deliver_pending(only)
    for line in failures:
        output.note(f"not yet: {line}")
    click.echo(f"{done} run ending(s) delivered, {len(failures)} still waiting", err=True)
    if failures:
        raise SystemExit(1)


@command.command(name="migrate")
@click.option(
    "--from",
    "source",
    default="./mlruns",
    show_default=True,
    metavar="URI",
    help="The file store to read.",
)
@click.option("--to", "target", required=True, metavar="URI", help="e.g. sqlite:///mlflow.db")
def migrate_command(source: str, target: str) -> None:
    """Move a file store into a SQLite store (MLflow's migration), then read every run back."""
    from mlproj.tracking import resolve_tracking_uri
    from mlproj.tracking.migrate import migrate_file_store

    done = migrate_file_store(resolve_tracking_uri(source), resolve_tracking_uri(target))
    click.echo(
        f"migrated {done.runs} runs in {done.experiments} experiments to {target}; "
        "every run read back and compared",
        err=True,
    )
