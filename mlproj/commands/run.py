"""`mlproj run`: options -> RunRequest -> runner."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mlproj import output
from mlproj._util.record import replace
from mlproj._util.redact import redact
from mlproj.backends import BACKENDS
from mlproj.commands.argtext import require_experiment_name, require_utf8
from mlproj.commands.options import backend_config_option
from mlproj.envs import MANAGERS
from mlproj.envs.base import EnvOptions
from mlproj.errors import UsageError

if TYPE_CHECKING:
    from mlproj.run.runner import RunRequest

F = TypeVar("F", bound=Callable[..., Any])


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    """`-P name=value` pairs, split at the first `=`; repeats and missing `=` are usage errors."""
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.UsageError(
                f"Invalid format for {option} parameter: {item!r}. Use {option} name=value."
            )
        if name in result:
            raise click.UsageError(f"Repeated parameter: {name!r}")
        result[name] = value
    return result


def check_grace(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A finite number of seconds >= 0: `nan` or `inf` would make a run that ignores SIGTERM
    unkillable (no deadline is ever reached)."""
    if not math.isfinite(value) or value < 0:
        raise click.BadParameter(f"{value} is not a number of seconds >= 0", ctx, param)
    return value


def parse_docker_args(values: tuple[str, ...]) -> tuple[tuple[str, str | None], ...]:
    pairs: list[tuple[str, str | None]] = []
    for item in values:
        name, sep, value = item.partition("=")
        pairs.append((name, value if sep else None))
    return tuple(pairs)


# Options `run` shares with `sweep` (and any later verb that runs a project): one definition.
PROJECT_OPTIONS = (
    click.option(
        "-e",
        "--entry-point",
        default="main",
        show_default=True,
        help="Entry point name, or a .py / .sh file of the project.",
    ),
    click.option("-v", "--version", "version", help="Git commit (full or short), branch or tag."),
    click.option(
        "-A",
        "--docker-args",
        "docker_args",
        multiple=True,
        metavar="NAME[=VALUE]",
        help="Extra `docker run` option for docker projects; repeatable.",
    ),
    click.option(
        "--env-manager",
        type=click.Choice(sorted(MANAGERS)),
        help="Environment manager; by default the project's env file decides.",
    ),
    click.option(
        "--experiment-name",
        envvar="MLFLOW_EXPERIMENT_NAME",
        help="Experiment to record into (created if missing).",
    ),
    click.option("--experiment-id", envvar="MLFLOW_EXPERIMENT_ID", help="Experiment id."),
    click.option(
        "--tracking-uri", help="Tracking store (default: $MLFLOW_TRACKING_URI, ./mlruns)."
    ),
    click.option("--run-name", help="Name of the run (default: a generated one)."),
    click.option(
        "--grace",
        type=float,
        callback=check_grace,
        default=10.0,
        show_default=True,
        help="Seconds between forwarding a signal and killing the run's processes.",
    ),
    click.option(
        "--strict-params",
        is_flag=True,
        envvar="MLPROJ_STRICT_PARAMS",
        help="Refuse -P names the entry point does not declare (MLflow passes them on as "
        "--NAME VALUE) [env: MLPROJ_STRICT_PARAMS=1].",
    ),
    click.option(
        "--frozen", is_flag=True, help="Refuse a stale conda-lock.yml instead of warning."
    ),
    click.option(
        "--conda-exe",
        envvar="MLPROJ_CONDA_EXE",
        help="Use this conda/mamba/micromamba instead of the built-in solver.",
    ),
    click.option(
        "--no-build",
        is_flag=True,
        help="Docker: run the base image with the project mounted read-only.",
    ),
    click.option(
        "--build-image",
        is_flag=True,
        help="Docker: build the image with the code (the default locally); Kubernetes: build, "
        "tag with repository-uri and push it.",
    ),
    click.option("--gpus", help="Docker: GPUs for the container (all or a count)."),
    click.option("--shm-size", help="Docker: size of /dev/shm, e.g. 2g."),
    click.option("--network", help="Docker: container network (e.g. none, host)."),
    click.option("--keep-container", is_flag=True, help="Docker: keep the container afterwards."),
    click.option(
        "--storage-dir",
        envvar="MLFLOW_TMP_DIR",
        help="Where remote values of path parameters (runs:/, https://, s3://) are "
        "downloaded for the run [default: a temp dir, removed afterwards].",
    ),
    click.option(
        "--no-python-downloads",
        is_flag=True,
        help="Never install a Python that a python_env asks for [also UV_PYTHON_DOWNLOADS=never].",
    ),
    click.option(
        "--no-type-check",
        is_flag=True,
        envvar="MLPROJ_NO_TYPE_CHECK",
        help="Pass -P values of int/float/bool/uri parameters unchecked, as MLflow does "
        "[env: MLPROJ_NO_TYPE_CHECK=1].",
    ),
)


def project_options(func: F) -> F:
    """Decorate a click command with PROJECT_OPTIONS (in the order they are listed)."""
    for option in reversed(PROJECT_OPTIONS):
        func = option(func)
    return func


def make_request(
    uri: str, params: dict[str, str], options: dict[str, Any], *, detach: bool = False
) -> RunRequest:
    """A RunRequest from the values of PROJECT_OPTIONS (as click passes them)."""
    from mlproj.run.runner import RunRequest

    for value in params.items():
        require_utf8("-P", "=".join(value))
    for value in options["docker_args"]:
        require_utf8("-A", value)
    for option in ("run_name", "experiment_name", "experiment_id", "entry_point", "version"):
        require_utf8(f"--{option.replace('_', '-')}", options[option])
    for option in ("tracking_uri", "storage_dir"):
        require_utf8(f"--{option.replace('_', '-')}", options[option])
    require_utf8("URI", uri)
    require_experiment_name(options["experiment_name"])
    if options["experiment_name"] and options["experiment_id"]:
        raise click.UsageError("Specify only one of 'experiment-name' or 'experiment-id' options.")
    env_options = EnvOptions(
        manager="",
        frozen=options["frozen"],
        conda_exe=options["conda_exe"],
        build_image=not options["no_build"],
        docker_args=parse_docker_args(options["docker_args"]),
        gpus=options["gpus"],
        shm_size=options["shm_size"],
        network=options["network"],
        keep_container=options["keep_container"],
        python_downloads=not options["no_python_downloads"],
    )
    return RunRequest(
        uri=uri,
        cwd=Path(os.getcwd()),
        entry_point=options["entry_point"],
        version=options["version"],
        params=params,
        env_manager=options["env_manager"],
        env_options=env_options,
        tracking_uri=options["tracking_uri"],
        experiment_name=options["experiment_name"],
        experiment_id=options["experiment_id"],
        run_name=options["run_name"],
        grace=options["grace"],
        detach=detach,
        argv=("mlproj", *sys.argv[1:]),
        storage_dir=options["storage_dir"],
        strict_params=options["strict_params"],
        type_check=not options["no_type_check"],
    )


def param_list_option(metavar: str, help: str) -> Callable[[Callable[..., Any]], Any]:
    """`-P/--param-list`, repeatable: `run` takes values, `sweep` takes ranges."""
    return click.option("-P", "--param-list", "params", multiple=True, metavar=metavar, help=help)


@click.command()
@click.argument("uri")
@param_list_option(
    "NAME=VALUE", "A parameter; repeatable. Undeclared ones are passed as --NAME VALUE."
)
@project_options
@click.option(
    "-b",
    "--backend",
    type=click.Choice(sorted(BACKENDS)),
    default="local",
    show_default=True,
    help="Where the run executes.",
)
@backend_config_option(
    "Backend config: a .json/.yaml file, a JSON object or key=value; repeatable."
)
@click.option("--run-id", help="Record into this existing (not ended) run instead of a new one.")
@click.option(
    "--snapshot",
    is_flag=True,
    help="Save the project's code with the run (mlproj/source.zip), so that `mlproj reproduce` "
    "can rebuild a non-git directory or a dirty tree with untracked files.",
)
@click.option("--detach", is_flag=True, help="Run in the background; print the run id.")
@click.option("--dry-run", is_flag=True, help="Show what would run; build and record nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run or --detach: JSON output.")
def command(
    uri: str,
    params: tuple[str, ...],
    backend: str,
    backend_config: tuple[str, ...],
    run_id: str | None,
    snapshot: bool,
    detach: bool,
    dry_run: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Run an entry point of the project at URI (a directory or a git URL, `#subdir` allowed)."""
    from mlproj.run import runner

    _refuse_run_reference(uri)
    request = replace(
        make_request(uri, parse_pairs(params, "-P"), options, detach=detach),
        run_id=run_id,
        snapshot=snapshot,
        backend=backend,
        backend_config=backend_config_from(backend, backend_config, options["build_image"]),
    )
    if dry_run:
        _print_plan(runner.dry_run(request), as_json)
        return
    result = runner.run(request)
    if detach:
        if as_json:
            import json

            click.echo(json.dumps({"run_id": result.run_id}))
        else:
            click.echo(result.run_id)
        return
    output.note(f"run {result.run_id} {result.status}")
    sys.exit(result.exit_code)


def _refuse_run_reference(uri: str) -> None:
    """`runs:/ID` or a UI run URL names a recorded run, which `reproduce` re-runs."""
    if not uri.startswith("runs:") and "#/experiments/" not in uri:
        return  # not one: spare a plain run the import
    from mlproj.commands.runref import looks_like_run_reference

    if looks_like_run_reference(uri):
        raise UsageError(
            f"{uri} names a recorded run, not a project",
            f"to run it again exactly as recorded, use `mlproj reproduce {uri}`",
        )


def backend_config_from(
    backend: str, values: tuple[str, ...], build_image: bool
) -> dict[str, object]:
    if backend == "local" and not values:
        return {}  # the common case needs neither the parser nor the backend's module
    from mlproj.backends import get_backend
    from mlproj.backends.config import parse_backend_config

    config = parse_backend_config(values, Path(os.getcwd()))
    if backend == "kubernetes":
        config["build_image"] = build_image
    get_backend(backend).check(config)
    return config


def _print_plan(plan: dict[str, object], as_json: bool) -> None:
    if as_json:
        import json

        click.echo(redact(json.dumps(plan, indent=2, default=str)))
        return
    click.echo(f"command:     {plan['command']}")
    click.echo(f"entry point: {plan['entry_point']}")
    click.echo(f"project dir: {plan['project_dir']}")
    click.echo("parameters:")
    _print_tree(plan["parameters"], indent=2)
    click.echo("environment:")
    _print_tree(plan["env"], indent=2)
    click.echo(f"tracking:    {redact(str(plan['tracking_uri']))}")
    if plan.get("job"):  # -b slurm: the script sbatch would get
        from mlproj.commands.jobtext import print_job

        print_job(plan["job"])  # type: ignore[arg-type]


def _print_tree(value: object, indent: int) -> None:
    """Nested plan data as indented `key: value` lines (JSON is one flag away)."""
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                click.echo(f"{pad}{key}:")
                _print_tree(item, indent + 2)
            else:
                click.echo(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                click.echo(f"{pad}-")
                _print_tree(item, indent + 2)
            else:
                click.echo(f"{pad}- {_scalar(item)}")


def _scalar(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return "none"
    return str(value)
