"""A sweep as one Slurm array job (`mlproj sweep -b slurm`).

The submitter plans every combination, creates the parent run and every child run here (as the
local sweep does), writes one array job whose task i runs `mlproj _exec-run` into child run i,
submits it, and waits until the job has left the queue. Children are SCHEDULED until their
task starts them (RUNNING), so tasks held back by `--jobs` or a busy cluster show as queued.
The node steps end the children; any child the job never ran or could not end is ended from
Slurm's account. The parent ends last: KILLED after Ctrl-C (the job is cancelled), FAILED when
any child failed, else FINISHED.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlproj import output
from mlproj._util.record import replace
from mlproj.backends.base import NodeStep
from mlproj.backends.slurm import commands
from mlproj.backends.slurm.backend import (
    BACKEND,
    JOB_ID_TAG,
    end_from_slurm,
    output_dir_for,
    submit_script,
)
from mlproj.backends.slurm.config import SlurmConfig, parse_config
from mlproj.backends.slurm.script import render_array_script
from mlproj.errors import MlprojError, TrackingError
from mlproj.run import runner
from mlproj.run.submit import node_step, shown_step
from mlproj.sweep import space
from mlproj.sweep.driver import SweepResult, conclude, create_parent, describe_sweep
from mlproj.sweep.plan import PlannedRun, SweepPlan, SweepRequest, make_sweep_plan
from mlproj.sweep.pool import ChildResult
from mlproj.tracking import open_store, resolve_tracking_uri
from mlproj.tracking.base import TERMINAL_STATUSES, RunInfo, RunStatus, Store
from mlproj.tracking.lifecycle import finish_run, mark_status

_QUEUE_POLL = 1.0  # squeue and the children's statuses


@dataclass(frozen=True)
class _Child:
    task: int  # the array task index (0-based); the sweep's index is task + 1
    run: PlannedRun
    step: NodeStep


def run_array_sweep(request: SweepRequest, throttle: int | None = None) -> SweepResult:
    """`throttle`: at most this many tasks at a time (Slurm's `--array=0-N%throttle`)."""
    config = parse_config(request.run.backend_config)
    tracking_uri = resolve_tracking_uri(request.run.tracking_uri)
    BACKEND.check_tracking(tracking_uri, request.run.backend_config)
    store = open_store(tracking_uri)
    # remote `path` values are downloaded by the nodes (a download here would be useless there)
    plan = make_sweep_plan(request, fetch=lambda name, value: value)
    columns = tuple(space.varying(plan.axes))
    parent = create_parent(store, plan, request)
    children: list[_Child] = []
    results: list[ChildResult] = []
    status: RunStatus = "FAILED"
    error: BaseException | None = None
    job_id: str | None = None
    try:
        # without --jobs, as many tasks at a time as Slurm allows
        jobs = str(throttle or len(plan.runs))
        store.set_tags(
            parent.run_id, {"mlflow.project.backend": "slurm", "mlproj.sweep.jobs": jobs}
        )
        for run in plan.runs:
            children.append(_create_child(store, parent, run, request, tracking_uri))
        job_id = _submit(store, parent, plan, children, config, throttle)
        output.note(f"sweep {parent.run_id}: {len(children)} runs submitted as array job {job_id}")
        cancelled = False
        try:
            cancelled = _wait(store, job_id, children, request.fail_fast)
        except KeyboardInterrupt:
            output.important(f"interrupted: cancelling array job {job_id}")
            _cancel(job_id, config)
            status = "KILLED"
            cancelled = True
        results = _end_children(store, job_id, children, cancelled)
        if status != "KILLED" and all(r.status == "FINISHED" for r in results):
            status = "FINISHED"
    except BaseException as exc:  # sbatch refused, tracking failure, Ctrl-C before submission
        error = exc
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        if job_id is not None:
            _cancel_quietly(job_id)
        for child in children:  # nothing else will end them
            _end_quietly(store, child.step.run_id, status)
    return conclude(store, parent.run_id, results, request, columns, status, error)


SWEEP_RUN_ID = "<sweep-run-id>"


def dry_run(request: SweepRequest, throttle: int | None = None) -> dict[str, Any]:
    """What `run_array_sweep` would do, with the array job's script; nothing created."""
    plan = make_sweep_plan(request, fetch=lambda name, value: value)
    described = describe_sweep(plan, request)
    described.update(backend="slurm", jobs=throttle, job=_describe_job(plan, request, throttle))
    return described


def _describe_job(plan: SweepPlan, request: SweepRequest, throttle: int | None) -> dict[str, Any]:
    from mlproj.backends.slurm import preview
    from mlproj.tracking.planned import planned_artifact_uri

    tracking_uri = resolve_tracking_uri(request.run.tracking_uri)
    steps = [
        shown_step(
            node_step(
                f"<run-id-{run.index}>", run.plan, _with_params(request.run, run), tracking_uri
            )
        )
        for run in plan.runs
    ]
    artifacts = planned_artifact_uri(
        tracking_uri, request.run.experiment_name, request.run.experiment_id, SWEEP_RUN_ID
    )
    project = plan.loaded.project
    job = preview.array_job(
        steps,
        request.run.backend_config,
        project_name=project.name or Path(project.directory).name,
        artifacts=artifacts,
        parent_run_id=SWEEP_RUN_ID,
        throttle=throttle,
        placeholders={
            SWEEP_RUN_ID: "the id of the sweep's parent run, created when the job is submitted",
            "<run-id-N>": "the id of the sweep's run #N (array task N-1), created then too",
        },
    )
    return job.to_json()


def _create_child(
    store: Store, parent: RunInfo, run: PlannedRun, request: SweepRequest, tracking_uri: str
) -> _Child:
    tags = {
        "mlflow.parentRunId": parent.run_id,
        "mlproj.sweep.index": str(run.index),
        "mlflow.project.backend": "slurm",
    }
    name = f"{request.run.run_name}-{run.index}" if request.run.run_name else None
    # owned=False: the array task runs it, not this process (tracking/owner.py)
    info = runner.create_run(store, run.plan, request.run, tags=tags, run_name=name, owned=False)
    mark_status(store, info.run_id, "SCHEDULED")  # until its array task starts it (RUNNING)
    child_request = _with_params(request.run, run)
    return _Child(run.index - 1, run, node_step(info.run_id, run.plan, child_request, tracking_uri))


def _with_params(request: runner.RunRequest, run: PlannedRun) -> runner.RunRequest:
    return replace(request, params=dict(run.params))


def _submit(
    store: Store,
    parent: RunInfo,
    plan: SweepPlan,
    children: Sequence[_Child],
    config: SlurmConfig,
    throttle: int | None,
) -> str:
    output_dir = output_dir_for(parent.run_id, parent.artifact_uri, config)
    project = plan.loaded.project
    script = render_array_script(
        [child.step for child in children],
        config,
        project_name=project.name or Path(project.directory).name,
        output_dir=str(output_dir),
        parent_run_id=parent.run_id,
        throttle=throttle,
    )
    job_id = submit_script(store, parent.run_id, script, output_dir, config)
    for child in children:  # `squeue -j 12_3` names one task: `mlproj runs` can reconcile it
        store.set_tags(child.step.run_id, {JOB_ID_TAG: f"{job_id}_{child.task}"})
    return job_id


def _wait(store: Store, job_id: str, children: Sequence[_Child], fail_fast: bool) -> bool:
    """Until the array job has left the queue, printing how many runs have ended; with
    `fail_fast`, cancel the job at the first failed run. True when it was cancelled."""
    ended: dict[str, str] = {}
    cancelled = False
    while True:
        in_queue = commands.queue_state(job_id) is not None
        for child in children:
            run_id = child.step.run_id
            if run_id not in ended:
                found = _status(store, run_id)
                if found in TERMINAL_STATUSES:
                    ended[run_id] = found
                    # no status here: the run's own MLflow client may end it FINISHED
                    # moments before the node step records its exit code (FAILED)
                    output.note(
                        f"[#{child.run.index}] run {run_id} ended ({len(ended)}/{len(children)})"
                    )
        if not in_queue:
            return cancelled
        if fail_fast and not cancelled and "FAILED" in ended.values():
            output.note(f"a run failed: cancelling array job {job_id}")
            commands.scancel(job_id)
            cancelled = True
        time.sleep(_QUEUE_POLL)


def _cancel(job_id: str, config: SlurmConfig) -> None:
    """scancel, then give the node steps their grace period to end their runs KILLED."""
    commands.scancel(job_id)
    deadline = time.monotonic() + config.grace + 60
    try:
        while time.monotonic() < deadline and commands.queue_state(job_id) is not None:
            time.sleep(_QUEUE_POLL)
    except KeyboardInterrupt:
        pass  # a second Ctrl-C: end what is left from here


def _end_children(
    store: Store, job_id: str, children: Sequence[_Child], cancelled: bool
) -> list[ChildResult]:
    """Every child's final status; a child its task did not end (never started, killed before
    the node step could record it) is ended from Slurm's account of its task."""
    results = []
    for child in children:
        run_id = child.step.run_id
        if _status(store, run_id) not in TERMINAL_STATUSES:
            task = f"{job_id}_{child.task}"
            end_from_slurm(store, run_id, task, state="CANCELLED" if cancelled else None)
        info = store.get_run(run_id).info
        seconds = ((info.end_time or 0) - (info.start_time or 0)) / 1000
        results.append(
            ChildResult(child.run.index, child.run.params, run_id, info.status, max(seconds, 0.0))
        )
    return results


def _status(store: Store, run_id: str) -> str:
    try:
        return store.get_run(run_id).info.status
    except TrackingError:
        return "RUNNING"  # a meta file caught mid-rewrite: ask again on the next poll


def _end_quietly(store: Store, run_id: str, status: RunStatus) -> None:
    try:
        finish_run(store, run_id, status)
    except MlprojError as exc:
        output.warning(f"run {run_id} not ended: {exc.one_line()}")


def _cancel_quietly(job_id: str) -> None:
    try:
        commands.scancel(job_id)
    except MlprojError as exc:
        output.warning(f"array job {job_id} not cancelled: {exc.one_line()}")
