"""The pipeline of one run: source -> spec -> params -> env -> tracking -> execute -> finalize.

Each step is a call into its own package; this module only wires them and guarantees that a run,
once created, ends exactly once as FINISHED, FAILED or KILLED.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlproj import envs, output, proc, sources, spec
from mlproj._util.clock import now_ms
from mlproj._util.record import Record, field, replace
from mlproj.envs.base import EnvOptions, PreparedEnv
from mlproj.errors import MlprojError, ParamError, TrackingError
from mlproj.proc import Execution, LaunchRequest, LogSink
from mlproj.run import record
from mlproj.run.childenv import experiment_name_env
from mlproj.run.ending import RunEnd, record_end
from mlproj.run.logsink import TeeSink
from mlproj.run.remote_params import Downloads
from mlproj.run.status import exit_code_tags, final_status
from mlproj.run.supervise import Interrupted, Outcome, forwarding_signals, supervise
from mlproj.run.tags import creation_tags, current_user
from mlproj.sources.base import FetchedProject
from mlproj.spec.model import Project, ResolvedCommand
from mlproj.tracking import open_store, resolve_tracking_uri, run_child_env
from mlproj.tracking.base import TERMINAL_STATUSES, RunInfo, Store
from mlproj.tracking.lifecycle import mark_status
from mlproj.tracking.limits import check_param
from mlproj.tracking.owner import owner_tags
from mlproj.tracking.runlogs import LOG_ARTIFACT_DIR
from mlproj.tracking.stores import local_artifacts


class RunRequest(Record):
    uri: str
    cwd: Path
    entry_point: str = "main"
    version: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    env_manager: str | None = None  # None: the project decides
    env_options: EnvOptions = field(default_factory=lambda: EnvOptions(manager=""))
    tracking_uri: str | None = None
    experiment_name: str | None = None
    experiment_id: str | None = None
    run_name: str | None = None
    grace: float = 10.0
    detach: bool = False
    argv: tuple[str, ...] = ()  # the full command line, recorded as a tag
    storage_dir: str | None = None  # where remote `path` values are downloaded (temp if None)
    run_id: str | None = None  # --run-id: run into this existing run instead of a new one
    backend: str = "local"  # -b/--backend; others go through run/submit.py
    backend_config: Mapping[str, Any] = field(default_factory=dict)
    strict_params: bool = False  # refuse -P names the entry point does not declare
    snapshot: bool = False  # save the project's code with the run (run/record.py)
    fetched: FetchedProject | None = None  # an already fetched source (`mlproj reproduce`)
    extra_tags: Mapping[str, str] = field(default_factory=dict)  # e.g. mlproj.reproduces
    type_check: bool = True  # False: -P values of typed parameters are passed unchecked


class LoadedProject(Record):
    """The project fetched and validated, its env manager chosen: what a sweep prepares once."""

    fetched: FetchedProject
    project: Project
    env_options: EnvOptions  # with the selected manager filled in


class Plan(LoadedProject):
    """Everything known before anything is built or recorded: the project and one command."""

    command: ResolvedCommand


class RunResult(Record):
    run_id: str
    status: str
    exit_code: int


def load_project(request: RunRequest) -> LoadedProject:
    """Fetch, validate and check the -P names (warn, or refuse with strict_params)."""
    fetched = request.fetched or sources.fetch_project(
        request.uri, request.version, cwd=request.cwd
    )
    project = spec.load_project(fetched.directory)
    for warning in spec.check_param_names(
        project, request.entry_point, request.params, strict=request.strict_params
    ):
        output.warning(warning)
    manager = envs.select_manager(project, request.env_manager)
    output.debug(f"project {project.directory}, entry point {request.entry_point}, env {manager}")
    options = replace(request.env_options, manager=manager)
    return LoadedProject(fetched, project, options)


def plan_for(
    loaded: LoadedProject,
    request: RunRequest,
    params: Mapping[str, str],
    fetch: spec.RemoteFetch | None = None,
) -> Plan:
    """One set of -P values checked and rendered into a command; raises ParamError."""
    command = spec.resolve_command(
        loaded.project,
        request.entry_point,
        params,
        request.cwd,
        fetch=fetch,
        type_check=request.type_check,
    )
    _check_loggable(command.params)
    return Plan(loaded.fetched, loaded.project, loaded.env_options, command)


def make_plan(request: RunRequest, fetch: spec.RemoteFetch | None = None) -> Plan:
    """Fetch and validate; raises MlprojError before any run exists. Remote `path` values
    go to `fetch` (a dry run passes one that keeps them as they are)."""
    return plan_for(load_project(request), request, request.params, fetch)


def prepare_env(plan: LoadedProject) -> PreparedEnv:
    """Build or reuse the environment (once for a sweep, whatever the parameters)."""
    return envs.get_manager(plan.env_options.manager).prepare(plan.project, plan.env_options)


def _check_loggable(params: Mapping[str, str]) -> None:
    """Refuse what the store would refuse, before a run exists (MLflow fails after)."""
    for key, value in params.items():
        try:
            check_param(key, value)
        except TrackingError as exc:
            raise ParamError(f"-P {key}=...: {exc.message}", exc.hint) from None


def dry_run(request: RunRequest) -> dict[str, Any]:
    """What `run` would do, without building an environment or creating a run."""
    plan = make_plan(request, fetch=lambda name, value: value)  # downloaded only by a run
    env_plan = envs.get_manager(plan.env_options.manager).plan(plan.project, plan.env_options)
    git = plan.fetched.git
    described: dict[str, Any] = {
        "command": plan.command.command,
        "entry_point": plan.command.entry_point,
        "parameters": dict(plan.command.params),
        "env": env_plan,
        "project_dir": str(plan.project.directory),
        "source": {
            "name": plan.fetched.source_name,
            "version": plan.fetched.version,
            "commit": git.commit if git else None,
            "dirty": git.dirty if git else None,
        },
        "tracking_uri": resolve_tracking_uri(request.tracking_uri),
    }
    if request.backend != "local":  # the job a cluster would get (run/submit.py)
        from mlproj.run.submit import describe_job

        described["job"] = describe_job(plan, request)
    return described


def run(request: RunRequest) -> RunResult:
    if request.backend != "local":
        from mlproj.run.submit import submit

        return submit(request)
    store = open_store(resolve_tracking_uri(request.tracking_uri))
    downloads = Downloads(store, request.storage_dir)
    handed_over = False  # a detached supervisor cleans up the downloads itself
    try:
        plan = make_plan(request, fetch=downloads.fetch)
        result, handed_over = _record_and_run(store, plan, request, downloads)
        return result
    finally:
        if not handed_over:
            downloads.cleanup()


def _record_and_run(
    store: Store, plan: Plan, request: RunRequest, downloads: Downloads
) -> tuple[RunResult, bool]:
    if request.run_id is not None:
        source = record.describe_source(plan.fetched, request.snapshot)
        info = record_plan(store, existing_run(store, request.run_id), plan, source, tag=True)
        store.set_tags(info.run_id, owner_tags())  # this process runs it now
        mark_status(store, info.run_id, "RUNNING")  # e.g. SCHEDULED by whoever made it
    else:
        info = create_run(store, plan, request)
    if request.detach:
        return _detach(store, info, plan, request, downloads), True
    return _execute(store, info, plan, request, echo=True), False


def create_run(
    store: Store,
    plan: Plan,
    request: RunRequest,
    *,
    tags: Mapping[str, str] | None = None,
    run_name: str | None = None,
    owned: bool = True,
) -> RunInfo:
    """Create the run for `plan` with its params (and git diff); RUNNING until executed.
    `owned`: this process runs it (False when a backend's job does, see tracking/owner.py)."""
    experiment_id = store.resolve_experiment(request.experiment_name, request.experiment_id)
    source = record.describe_source(plan.fetched, request.snapshot)
    created = creation_tags(plan.fetched, request.entry_point, request.argv)
    info = store.create_run(
        experiment_id,
        user_id=current_user(),
        start_time=now_ms(),
        tags={
            **created,
            **source.tags,
            **(owner_tags() if owned else {}),
            **request.extra_tags,
            **(tags or {}),
        },
        run_name=run_name if run_name is not None else request.run_name,
    )
    return record_plan(store, info, plan, source)


def record_plan(
    store: Store, info: RunInfo, plan: Plan, source: record.SourceRecord, *, tag: bool = False
) -> RunInfo:
    """The plan's params, what rebuilds its source (run/record.py: `tag` for a run that exists
    already) and the git diff on the run; the run ends FAILED if they cannot be recorded."""
    output.debug(f"tracking store {store.uri}, experiment {info.experiment_id}, run {info.run_id}")
    try:
        store.log_params(info.run_id, plan.command.params)
        if tag:
            store.set_tags(info.run_id, source.tags)
        record.save_source(store, info.run_id, plan.fetched, source)
    except BaseException:
        store.set_terminated(info.run_id, "FAILED", now_ms())
        raise
    return info


def existing_run(store: Store, run_id: str) -> RunInfo:
    """`--run-id`: the run to record into; it must exist and not have ended (a terminal status
    is final in mlproj: resuming would overwrite what it recorded)."""
    info = store.get_run(run_id).info
    if info.status in TERMINAL_STATUSES:
        raise TrackingError(
            f"--run-id {run_id}: the run already ended ({info.status})",
            "drop --run-id to record a new run",
        )
    return info


def _detach(
    store: Store, info: RunInfo, plan: Plan, request: RunRequest, downloads: Downloads
) -> RunResult:
    """Fork a supervisor in its own session; the caller only prints the run id, once the
    supervisor has recorded itself as the run's owner (else a `runs list` in between would
    find the caller gone and end the run)."""
    sys.stdout.flush()
    sys.stderr.flush()
    ready_read, ready_write = os.pipe()
    if os.fork() != 0:
        os.close(ready_write)
        with os.fdopen(ready_read, "rb") as ready:
            ready.read(1)  # EOF too: the supervisor died, and the run records why
        return RunResult(info.run_id, "RUNNING", 0)
    os.close(ready_read)
    code = 1
    try:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            store.set_tags(info.run_id, owner_tags())
        finally:
            os.write(ready_write, b"1")
            os.close(ready_write)
        code = _execute(store, info, plan, request, echo=False).exit_code
    except BaseException:  # nobody is left to show it; the run records the failure
        code = 1
    finally:
        downloads.cleanup()
        os._exit(code)


def _execute(
    store: Store, info: RunInfo, plan: Plan, request: RunRequest, *, echo: bool
) -> RunResult:
    attempt = RunExecution(store, info, plan, echo=echo)
    outcome: Outcome | None = None
    error: BaseException | None = None
    try:
        with forwarding_signals() as signals:
            try:
                if request.env_manager is None and plan.project.env.kind == "local":
                    attempt.sink.note(
                        "the project declares no environment: running in the current one"
                    )
                execution = attempt.launch(prepare_env(plan))
                try:
                    outcome = supervise(execution, signals, request.grace)
                finally:
                    attempt.stopped(execution, outcome, request.grace)
            except Interrupted as exc:
                outcome = Outcome(exit_code=128 + exc.signum, signal=exc.signum, killed=False)
    except BaseException as exc:  # env build failure, start failure, Ctrl-C in odd places
        error = exc
    finally:
        status = attempt.finish(outcome, error)
    if error is not None:
        raise error
    assert outcome is not None
    return RunResult(info.run_id, status, exit_code_of(outcome))


def exit_code_of(outcome: Outcome) -> int:
    """Our exit code for a run's outcome: 128 + the signal we forwarded (130 for SIGINT, 143 for
    SIGTERM, as a shell reports), else the child's."""
    if outcome.signal is not None:
        return 128 + outcome.signal
    if outcome.exit_code < 0:
        return 128 - outcome.exit_code
    return outcome.exit_code


class RunExecution:
    """One prepared run executing into a created run: its log files, the launch of its
    command in a prepared environment, and its terminal status, set exactly once.

    `run` drives one of these under its own signal handling; a sweep drives several at once.
    """

    def __init__(
        self, store: Store, info: RunInfo, plan: Plan, *, echo: bool, mirror: LogSink | None = None
    ) -> None:
        self.store, self.info, self.plan = store, info, plan
        # A local artifact store gets the logs live; a remote one gets them uploaded at the end.
        self._temp_logs = None
        if local_artifacts.is_local(info.artifact_uri):
            log_dir = Path(local_artifacts.local_path(info.artifact_uri)) / LOG_ARTIFACT_DIR
        else:
            import tempfile  # only a remote artifact store gets here

            self._temp_logs = tempfile.TemporaryDirectory(prefix="mlproj-logs-")
            log_dir = Path(self._temp_logs.name)
        self.sink = TeeSink(log_dir, echo=echo, mirror=mirror)
        self.status: str | None = None

    def launch(self, prepared: PreparedEnv) -> Execution:
        """Record the environment on the run and start the command (its own process group)."""
        run_id = self.info.run_id
        self.store.set_tags(run_id, prepared.facts.tags())
        for path, artifact_dir in prepared.artifacts:
            self.store.log_artifact(run_id, path, artifact_dir)
        env = child_environment(self.store, self.info)
        self.sink.note(f"running {self.plan.command.command!r} in run {run_id}")
        request = LaunchRequest(
            self.plan.command.command, self.plan.project.directory, env, self.sink
        )
        proc.become_subreaper()  # daemons the command starts become ours to find, not init's
        return prepared.launch(request)

    def stopped(self, execution: Execution, outcome: Outcome | None, grace: float) -> None:
        """After the command ended (or waiting failed): nothing of it may outlive the run."""
        try:
            if outcome is None or outcome.signal is not None:
                execution.kill()  # whatever survived the leader goes too
            else:
                self._stop_leftovers(execution, grace)
        finally:
            execution.close()
        if outcome is not None and outcome.signal is not None:
            how = "killed after the grace period" if outcome.killed else "stopped"
            self.sink.note(f"{signal.Signals(outcome.signal).name}: {how}")

    def _stop_leftovers(self, execution: Execution, grace: float) -> None:
        """The entry point has exited: what it left running in its process group is stopped,
        and daemons that escaped the group (setsid) are found as adopted orphans, recorded and
        stopped."""
        left = execution.stop_leftovers(grace)
        if left:
            self.sink.note(
                f"the entry point left {left} background process(es) running: stopped them"
            )
        escaped = proc.adopted_orphans()
        if escaped:
            listed = "; ".join(f"{pid} {cmd}" for pid, cmd in escaped)
            self.sink.note(f"{len(escaped)} process(es) escaped the run's process group: {listed}")
            proc.stop_orphans(escaped, grace)
            with contextlib.suppress(MlprojError, OSError):
                self.store.set_tags(self.info.run_id, {"mlproj.escaped_processes": listed[:5000]})

    def finish(self, outcome: Outcome | None, error: BaseException | None) -> str:
        """Close the logs and set the terminal status (once; later calls return it)."""
        if self.status is not None:
            return self.status
        if isinstance(error, MlprojError):  # the CLI shows it; the saved log keeps it too
            self.sink.note(f"error: {error.one_line()}", echo=False)
        self.sink.close()
        try:
            self.status = _finalize(
                self.store, self.info.run_id, outcome, self.sink, self._temp_logs is not None, error
            )
        finally:
            if self._temp_logs is not None:
                self._temp_logs.cleanup()
        return self.status


def child_environment(store: Store, info: RunInfo) -> dict[str, str]:
    env = dict(os.environ)
    env.update(run_child_env(store, info))
    return experiment_name_env(env, store, info.experiment_id)


def _finalize(
    store: Store,
    run_id: str,
    outcome: Outcome | None,
    sink: TeeSink,
    upload_logs: bool,
    error: BaseException | None,
) -> str:
    """Record the terminal status exactly once (run/ending.py: retried, or kept for `runs sync`
    when the store is away), decided by how the command ended (run/status.py) and written
    over whatever the child's own mlflow set, as `mlflow run` does."""
    status = final_status(outcome, interrupted=isinstance(error, KeyboardInterrupt))
    forced = True
    tags: dict[str, str] = exit_code_tags(outcome)
    if isinstance(error, MlprojError):
        tags["mlproj.error"] = error.one_line()[:5000]
    if sink.truncated is not None:
        tags["mlproj.logs_truncated"] = sink.truncated
        output.warning(f"logs of run {run_id}: {sink.truncated}")
    end = RunEnd(run_id, status, forced, now_ms(), tags, sink.named_paths(), upload_logs)
    return record_end(store, end, output.note).status
