"""Command-line entry point: a thin click group that loads each command lazily.

Each verb lives in `mlproj/commands/<verb>.py` as a click command (or group) named `command`.
Loading them lazily keeps `mlproj --help` and `mlproj validate` free of heavy imports.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from mlproj import __version__, output
from mlproj._util import collector
from mlproj._util.redact import redact
from mlproj.errors import MlprojError

# verb -> (module, one-line help shown by `mlproj --help` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("mlproj.commands.run", "Run an entry point of a project and record the run."),
    "sweep": ("mlproj.commands.sweep", "Run an entry point over a grid or sample of parameters."),
    "validate": ("mlproj.commands.validate", "Check an MLproject file and report every problem."),
    "describe": ("mlproj.commands.describe", "Show a project's environment and entry points."),
    "runs": ("mlproj.commands.runs", "List, show, compare and follow recorded runs."),
    "env": ("mlproj.commands.env", "List, create and remove cached environments."),
    "lock": ("mlproj.commands.lock", "Write conda-lock.yml for a project's conda environment."),
    "reproduce": (
        "mlproj.commands.reproduce",
        "Re-run a recorded run from its recorded source and lock; compare metrics.",
    ),
    "pack": (
        "mlproj.commands.pack",
        "Write a deterministic, self-contained zip of a project with its locks.",
    ),
    "ui": ("mlproj.commands.ui", "Start MLflow's UI on mlproj's tracking store."),
    "cache": ("mlproj.commands.cache", "Prune cached environments, checkouts, zips and images."),
    # internal: the node-side step of a job submitted with -b slurm / kubernetes
    "_exec-run": ("mlproj.commands.exec_run", "Run a submitted run on this node (internal)."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if not name.startswith("_"))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        collector.resume()  # start-up is over: what exists now lives as long as the process
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlproj")
@click.option("-v", "--verbose", is_flag=True, help="Also show debug lines (tool output, steps).")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings and errors from mlproj.")
def cli(verbose: bool, quiet: bool) -> None:
    """Package and run machine-learning projects described by an MLproject file."""
    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet exclude each other")
    output.configure(output.VERBOSE if verbose else output.QUIET if quiet else output.NORMAL)


def crash_report(exc: BaseException, argv: list[str]) -> str:
    """What a crash log holds: versions first (as pre-commit's do), then the traceback."""
    import platform
    import traceback

    return (
        "### version information\n\n"
        f"mlproj version: {__version__}\n"
        f"python version: {sys.version.replace(chr(10), ' ')}\n"
        f"python executable: {sys.executable}\n"
        f"platform: {platform.platform()}\n"
        f"command: mlproj {' '.join(argv)}\n"
        "\n### error information\n\n" + redact("".join(traceback.format_exception(exc)))
    )


def _write_crash_log(exc: BaseException, argv: list[str]) -> str | None:
    try:
        import datetime

        from mlproj.paths import crash_dir

        # pid and microseconds: two crashes in the same second never share a file
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = crash_dir() / f"crash-{stamp}-{os.getpid()}.log"
        path.write_text(crash_report(exc, argv), encoding="utf-8")
        return str(path)
    except (OSError, MlprojError):  # a read-only or full MLPROJ_HOME: no log, still one line
        return None


def _internal_error(exc: BaseException, argv: list[str]) -> None:
    where = _write_crash_log(exc, argv)
    detail = f"; details in {where}" if where else ""
    output.important(f"internal error: {redact(f'{type(exc).__name__}: {exc}')}{detail}")


def main(argv: list[str] | None = None) -> Any:
    try:
        result = cli.main(args=argv, prog_name="mlproj", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        output.important("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MlprojError as exc:
        if exc.hint_line and exc.hint:
            output.error(f"{exc.message}\n  fix: {exc.hint}")
        else:
            output.error(exc.one_line())
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        output.important("interrupted")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
    except OSError as exc:
        from mlproj.paths import cache_write_error

        known = cache_write_error(exc)
        if known is None:
            _internal_error(exc, sys.argv[1:] if argv is None else argv)
        else:
            output.error(known.one_line())
        sys.exit(1)
    except Exception as exc:  # the unexpected: one line here, the traceback in a crash log
        _internal_error(exc, sys.argv[1:] if argv is None else argv)
        sys.exit(1)
    # without standalone mode, click returns `ctx.exit(n)` codes instead of exiting
    if isinstance(result, int):
        sys.exit(result)
    return result


def entry() -> None:
    """The `mlproj` command (and `python -m mlproj`): main(), then an exit without the
    interpreter's teardown."""
    try:
        main()
        code: str | int | None = 0
    except SystemExit as exc:
        code = exc.code
    exit_without_teardown(code)


def exit_without_teardown(code: str | int | None) -> None:
    """Exit as sys.exit(code) would, minus freeing every module and object one by one: 31 M
    instructions (about 8 ms, as much as a warm run's own work) for a process that is done.
    What an exit must still do is done: exit handlers (coverage data, weakref finalizers,
    logging), and the output flushed (Python's status 120 when that fails). While another
    thread still runs (none should), the normal exit waits for it instead."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message"): printed, status 1
        print(code, file=sys.stderr)
        status = 1
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe, a closed stream
            status = status or 120
    os._exit(status & 0xFF)
