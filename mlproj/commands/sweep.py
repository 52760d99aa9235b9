"""`mlproj sweep`: options -> SweepRequest -> sweep driver."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from mlproj import output
from mlproj._util.record import replace
from mlproj.commands.options import backend_config_option
from mlproj.commands.run import (
    backend_config_from,
    make_request,
    param_list_option,
    parse_pairs,
    project_options,
)

_BACKENDS = ("local", "slurm")  # a sweep on Slurm is one array job


@click.command()
@click.argument("uri")
@param_list_option(
    "NAME=SPEC",
    "A parameter to sweep: a list 1,2,3, a range 0.1..0.5 or log:1e-4..1e-1 (ranges need "
    "--random), or one value; repeatable.",
)
@project_options
@click.option(
    "--random",
    "random_count",
    type=click.IntRange(min=1),
    help="Draw N combinations at random instead of the whole grid.",
)
@click.option("--seed", type=int, help="Seed of --random: the same seed draws the same runs.")
@click.option(
    "-b",
    "--backend",
    type=click.Choice(_BACKENDS),
    default="local",
    show_default=True,
    help="Where the runs execute: here, or as one Slurm array job (a task per combination).",
)
@backend_config_option("Backend config (as for `run -b slurm`), applied to every task; repeatable.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Runs at a time [default: 1 here; with -b slurm, as many as Slurm allows (--array %N)].",
)
@click.option("--metric", help="Rank the runs by this metric (as logged by the runs).")
@click.option(
    "--maximize/--minimize",
    default=None,
    help="Whether a higher or a lower --metric is better.",
)
@click.option("--fail-fast", is_flag=True, help="Stop the sweep at the first failed run.")
@click.option("--follow", is_flag=True, help="Stream every run's output, prefixed with [#N].")
@click.option(
    "--dry-run", is_flag=True, help="List the combinations and commands; build and record nothing."
)
@click.option("--json", "as_json", is_flag=True, help="JSON output (the plan, or the summary).")
def command(
    uri: str,
    params: tuple[str, ...],
    random_count: int | None,
    seed: int | None,
    backend: str,
    backend_config: tuple[str, ...],
    jobs: int | None,
    metric: str | None,
    maximize: bool | None,
    fail_fast: bool,
    follow: bool,
    dry_run: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Run an entry point of the project at URI once per combination of parameters: a parent
    run and one nested child run per combination, the environment prepared once."""
    from mlproj.sweep import driver
    from mlproj.sweep.plan import SweepRequest

    if metric is not None and maximize is None:
        raise click.UsageError(f"--metric {metric}: say whether to --maximize or --minimize it")
    if maximize is not None and metric is None:
        raise click.UsageError("--maximize/--minimize need --metric NAME")
    if backend != "local" and follow:
        raise click.UsageError(
            f"--follow runs here only; with -b {backend} each run's output "
            "is in its logs/ artifacts"
        )
    run_request = make_request(uri, parse_pairs(params, "-P"), options)
    if backend != "local":
        config = backend_config_from(backend, backend_config, options["build_image"])
        run_request = replace(run_request, backend=backend, backend_config=config)
    elif backend_config:
        raise click.UsageError("-c/--backend-config needs -b slurm")
    request = SweepRequest(
        run=run_request,
        random=random_count,
        seed=seed,
        jobs=jobs or 1,
        metric=metric,
        maximize=bool(maximize),
        fail_fast=fail_fast,
        follow=follow,
    )
    if dry_run:
        if backend == "slurm":  # one array job; no --jobs: as many tasks as Slurm allows
            from mlproj.sweep.slurm_array import dry_run as array_dry_run

            described = array_dry_run(request, throttle=jobs)
        else:
            described = driver.dry_run(request)
        _print_plan(described, as_json)
        return
    if backend == "slurm":
        from mlproj.sweep.slurm_array import run_array_sweep

        result = run_array_sweep(request, throttle=jobs)
    else:
        result = driver.run_sweep(request)
    if as_json:
        out: dict[str, object] = {"parent_run_id": result.parent_run_id, "status": result.status}
        out.update(result.summary.to_json() if result.summary else {})
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(result.table(), nl=False)
        best = result.summary.best if result.summary else None
        if best is not None:
            click.echo(f"best: run {best.run_id} ({metric} = {best.value:.6g})")
    output.note(f"sweep {result.parent_run_id} {result.status}")
    sys.exit(result.exit_code)


def _print_plan(plan: dict[str, Any], as_json: bool) -> None:
    from mlproj._util.redact import redact

    if as_json:
        click.echo(redact(json.dumps(plan, indent=2, default=str)))
        return
    seed = f" (seed {plan['seed']})" if plan["seed"] is not None else ""
    combos = plan["combinations"]
    at_once = f"{plan['jobs']} at a time" if plan["jobs"] else "as many at a time as Slurm allows"
    where = " as one Slurm array job" if plan.get("backend") == "slurm" else ""
    click.echo(f"{plan['mode']} sweep{seed}: {len(combos)} runs{where}, {at_once}")
    click.echo(f"project dir: {plan['project_dir']}")
    click.echo(f"tracking:    {redact(str(plan['tracking_uri']))}")
    for combo in combos:
        values = " ".join(f"{k}={v}" for k, v in combo["params"].items())
        click.echo(f"  #{combo['index']} {values}")
        click.echo(f"      {combo['command']}")
    if plan.get("job"):
        from mlproj.commands.jobtext import print_job

        print_job(plan["job"])
