"""A sweep end to end: plan every combination, create the parent run, prepare the environment
once, execute the planned runs (local backend), then rank them and record the summary.

The parent ends exactly once: KILLED after a signal, FAILED when any child (or the environment
build) failed, else FINISHED.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlproj import envs, output
from mlproj._util.clock import now_ms
from mlproj._util.record import replace
from mlproj.errors import MlprojError
from mlproj.proc import LogSink
from mlproj.run import runner
from mlproj.run.remote_params import Downloads
from mlproj.run.supervise import Interrupted, forwarding_signals
from mlproj.spec.model import ResolvedCommand
from mlproj.sweep import space
from mlproj.sweep.display import Display
from mlproj.sweep.plan import PlannedRun, SweepPlan, SweepRequest, describe, make_sweep_plan
from mlproj.sweep.pool import ChildResult, LocalPool
from mlproj.sweep.summary import Summary, summarize, table
from mlproj.tracking import open_store, resolve_tracking_uri
from mlproj.tracking.base import Metric, RunInfo, RunStatus, Store
from mlproj.tracking.lifecycle import finish_run

PARENT_TAG = "mlproj.sweep"  # "grid" or "random" on a sweep's parent run
SUMMARY_ARTIFACT = "sweep/summary.json"
TABLE_ARTIFACT = "sweep/table.txt"


@dataclass(frozen=True)
class SweepResult:
    parent_run_id: str
    status: str
    summary: Summary | None
    columns: tuple[str, ...]  # the parameters that vary

    @property
    def exit_code(self) -> int:
        return {"FINISHED": 0, "KILLED": 130}.get(self.status, 1)

    def table(self) -> str:
        return table(self.summary, self.columns) if self.summary else ""


def dry_run(request: SweepRequest) -> dict[str, Any]:
    """The combinations and commands, the environment and the store; nothing built or recorded."""
    return describe_sweep(make_sweep_plan(request, fetch=lambda name, value: value), request)


def describe_sweep(plan: SweepPlan, request: SweepRequest) -> dict[str, Any]:
    env_plan = envs.get_manager(plan.loaded.env_options.manager).plan(
        plan.loaded.project, plan.loaded.env_options
    )
    return {
        **describe(plan),
        "jobs": request.jobs,
        "env": env_plan,
        "tracking_uri": resolve_tracking_uri(request.run.tracking_uri),
    }


def run_sweep(request: SweepRequest, display_live: bool | None = None) -> SweepResult:
    store = open_store(resolve_tracking_uri(request.run.tracking_uri))
    downloads = Downloads(store, request.run.storage_dir)
    try:
        plan = make_sweep_plan(request, fetch=downloads.fetch)
        columns = tuple(space.varying(plan.axes))
        display = Display(len(plan.runs), columns, live=False if request.follow else display_live)
        return _record_and_run(store, plan, request, display, columns)
    finally:
        downloads.cleanup()


def _record_and_run(
    store: Store,
    plan: SweepPlan,
    request: SweepRequest,
    display: Display,
    columns: tuple[str, ...],
) -> SweepResult:
    parent = create_parent(store, plan, request)
    results: list[ChildResult] = []
    status: RunStatus = "FAILED"
    error: BaseException | None = None
    try:
        display.note(f"sweep run {parent.run_id}: {len(plan.runs)} runs, {request.jobs} at a time")
        with forwarding_signals() as signals:
            try:
                env = runner.prepare_env(plan.loaded)  # once, for every child
                store.set_tags(parent.run_id, env.facts.tags())
                pool = LocalPool(
                    env,
                    lambda run, mirror: _create_child(store, parent, run, request, mirror),
                    display,
                    jobs=request.jobs,
                    grace=request.run.grace,
                    fail_fast=request.fail_fast,
                    follow=request.follow,
                )
                results = pool.execute(plan.runs, signals)
                if signals.received is not None:
                    status = "KILLED"
                elif all(r.status == "FINISHED" for r in results):
                    status = "FINISHED"
            except Interrupted:
                status = "KILLED"
    except BaseException as exc:  # env build failure, tracking failure, the unexpected
        error = exc
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
    return conclude(store, parent.run_id, results, request, columns, status, error)


def conclude(
    store: Store,
    parent_id: str,
    results: list[ChildResult],
    request: SweepRequest,
    columns: tuple[str, ...],
    status: RunStatus,
    error: BaseException | None,
) -> SweepResult:
    """However the sweep went: the best-of summary on the parent, the parent ended once, and
    `error` raised again."""
    summary = summarize(store, results, request.metric, request.maximize) if results else None
    try:
        record_summary(store, parent_id, summary, columns, error)
    finally:
        final = finish_run(store, parent_id, status)
    if error is not None:
        raise error
    return SweepResult(parent_id, final, summary, columns)


def create_parent(store: Store, plan: SweepPlan, request: SweepRequest) -> RunInfo:
    """The parent run: the sweep's definition as params, its settings as tags."""
    first = plan.runs[0].plan
    definition = {axis.name: axis.spec for axis in plan.axes}
    command = ResolvedCommand(first.command.entry_point, "", definition)
    tags = {
        PARENT_TAG: plan.mode,
        "mlproj.sweep.size": str(len(plan.runs)),
        "mlproj.sweep.jobs": str(request.jobs),
    }
    if plan.seed is not None:
        tags["mlproj.sweep.seed"] = str(plan.seed)
    if request.metric is not None:
        tags["mlproj.sweep.metric"] = request.metric
        tags["mlproj.sweep.goal"] = "maximize" if request.maximize else "minimize"
    parent_plan = replace(first, command=command)
    return runner.create_run(store, parent_plan, request.run, tags=tags)


def _create_child(
    store: Store, parent: RunInfo, run: PlannedRun, request: SweepRequest, mirror: LogSink | None
) -> runner.RunExecution:
    tags = {"mlflow.parentRunId": parent.run_id, "mlproj.sweep.index": str(run.index)}
    name = f"{request.run.run_name}-{run.index}" if request.run.run_name else None
    info = runner.create_run(store, run.plan, request.run, tags=tags, run_name=name)
    return runner.RunExecution(store, info, run.plan, echo=False, mirror=mirror)


def record_summary(
    store: Store,
    parent_id: str,
    summary: Summary | None,
    columns: tuple[str, ...],
    error: BaseException | None,
) -> None:
    """Best run and its params as tags, the table and JSON as artifacts; never raises."""
    tags: dict[str, str] = {}
    if isinstance(error, MlprojError):
        tags["mlproj.error"] = error.one_line()[:5000]
    if summary is not None and summary.best is not None:
        best = summary.best
        tags["mlproj.sweep.best_run_id"] = best.run_id or ""
        tags["mlproj.sweep.best_metric"] = repr(best.value)
        tags.update({f"mlproj.sweep.best.{k}": v for k, v in best.params.items()})
    try:
        if tags:
            store.set_tags(parent_id, tags)
        if summary is not None and summary.best is not None and summary.metric is not None:
            # the best value under the metric's own name: the UI shows it on the parent's row
            value = summary.best.value or 0.0
            store.log_metrics(parent_id, [Metric(summary.metric, value, now_ms(), 0)])
        if summary is not None:
            text = json.dumps(summary.to_json(), indent=2).encode()
            store.write_artifact(parent_id, SUMMARY_ARTIFACT, text)
            store.write_artifact(parent_id, TABLE_ARTIFACT, table(summary, columns).encode())
    except MlprojError as exc:
        output.warning(f"sweep summary not recorded: {exc.one_line()}")
