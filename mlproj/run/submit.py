"""Submit a run to a remote backend (Slurm, Kubernetes): validate and create the run here, hand
it to the backend, then wait for it (streaming its output) unless --detach.

The job runs `mlproj _exec-run` on the node, which fetches the project, builds the env in the
node's cache, runs the entry point into the run created here and ends it.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from mlproj import backends, envs, output
from mlproj._util.clock import now_ms
from mlproj._util.record import asdict, replace
from mlproj.backends.base import NodeStep, PreparedRun
from mlproj.errors import MlprojError, RunError
from mlproj.run import record
from mlproj.run.runner import (
    Plan,
    RunRequest,
    RunResult,
    create_run,
    existing_run,
    make_plan,
    record_plan,
)
from mlproj.run.tags import creation_tags, redact_docker_arg
from mlproj.sources.uri import is_scp_like, split_subdirectory, url_scheme
from mlproj.tracking import open_store, resolve_tracking_uri
from mlproj.tracking.base import RunInfo, Store

_EXIT_CODES = {"FINISHED": 0, "KILLED": 130}


def submit(request: RunRequest) -> RunResult:
    backend = backends.get_backend(request.backend)
    backend.check(request.backend_config)
    tracking_uri = resolve_tracking_uri(request.tracking_uri)
    backend.check_tracking(tracking_uri, request.backend_config)
    store = open_store(tracking_uri)
    # Remote `path` values are downloaded by the node (a download here would be useless there).
    plan = make_plan(request, fetch=lambda name, value: value)
    info = _create_run(store, plan, request)
    try:
        prepared = _prepared(store, info, plan, request, tracking_uri)
        if backend.runs_containers:
            prepared = _with_image(store, prepared, plan, request)
        handle = backend.submit(prepared)
    except BaseException as exc:
        if isinstance(exc, MlprojError):
            store.set_tags(info.run_id, {"mlproj.error": exc.one_line()[:5000]})
        store.set_terminated(info.run_id, "FAILED", now_ms())
        raise
    if handle.job_id is not None:
        output.note(f"run {info.run_id} submitted as job {handle.job_id}")
    if request.detach:
        status = store.get_run(info.run_id).info.status  # SCHEDULED while the job is queued
        return RunResult(info.run_id, status, 0)
    handle.wait()
    status = handle.get_status()
    return RunResult(info.run_id, status, _EXIT_CODES.get(status, 1))


def _create_run(store: Store, plan: Plan, request: RunRequest) -> RunInfo:
    tags = creation_tags(plan.fetched, request.entry_point, request.argv, backend=request.backend)
    if request.run_id is not None:
        info = existing_run(store, request.run_id)
        store.set_tags(info.run_id, tags)
        source = record.describe_source(plan.fetched, request.snapshot)
        return record_plan(store, info, plan, source, tag=True)
    return create_run(store, plan, request, tags=tags, owned=False)  # the job's node runs it


def _prepared(
    store: Store, info: RunInfo, plan: Plan, request: RunRequest, tracking_uri: str
) -> PreparedRun:
    step = node_step(info.run_id, plan, request, tracking_uri)
    config = request.backend_config
    docker = plan.project.env.docker
    return PreparedRun(
        run_id=info.run_id,
        experiment_id=info.experiment_id,
        tracking_uri=tracking_uri,
        artifact_uri=info.artifact_uri,
        project_name=plan.project.name or Path(plan.project.directory).name,
        project_dir=str(plan.project.directory),
        command=plan.command.command,
        env_kind=plan.project.env.kind,
        docker_image=docker.image if docker else None,
        node_step=step,
        config=dict(config),
        store=store,
    )


RUN_ID_PLACEHOLDER = "<run-id>"


def describe_job(plan: Plan, request: RunRequest) -> dict[str, Any] | None:
    """For `run --dry-run`: the job script the submission would write and submit, secrets
    redacted, nothing created (Slurm; Kubernetes renders its Job from the user's template
    only when submitting)."""
    if request.backend != "slurm":
        return None
    from mlproj.backends.slurm import preview
    from mlproj.tracking.planned import planned_artifact_uri

    tracking_uri = resolve_tracking_uri(request.tracking_uri)
    run_id = request.run_id or RUN_ID_PLACEHOLDER
    placeholders = {}
    if request.run_id is None:
        placeholders[RUN_ID_PLACEHOLDER] = "the id of the run, created when the job is submitted"
    artifacts = planned_artifact_uri(
        tracking_uri, request.experiment_name, request.experiment_id, run_id, request.run_id
    )
    job = preview.run_job(
        shown_step(node_step(run_id, plan, request, tracking_uri)),
        request.backend_config,
        project_name=plan.project.name or Path(plan.project.directory).name,
        artifacts=artifacts,
        placeholders=placeholders,
    )
    return job.to_json()


def shown_step(step: NodeStep) -> NodeStep:
    """`step` with the values of `-A env=NAME=value` hidden, as the recorded command line has
    them (run/tags.py); URL credentials are redacted from the whole script."""
    options = dict(step.env_options)
    options["docker_args"] = tuple(
        (name, None if value is None else redact_docker_arg(f"{name}={value}")[len(name) + 1 :])
        for name, value in options.get("docker_args", ())
    )
    return dataclasses.replace(step, env_options=options)


def node_step(run_id: str, plan: Plan, request: RunRequest, tracking_uri: str) -> NodeStep:
    """What the node runs: `request`'s project, entry point and -P values into `run_id`."""
    uri, version = node_source(request, plan)
    return NodeStep(
        uri=uri,
        version=version,
        entry_point=request.entry_point,
        params=dict(request.params),
        env_manager=request.env_manager,
        env_options=asdict(plan.env_options),
        tracking_uri=tracking_uri,
        run_id=run_id,
        backend=request.backend,
        grace=float(request.backend_config.get("grace", 3.0)),
        storage_dir=request.storage_dir,
    )


def _with_image(
    store: Store, prepared: PreparedRun, plan: Plan, request: RunRequest
) -> PreparedRun:
    """Build (or reuse) the docker_env image here: with --build-image it holds the code, as
    MLflow's; without, the base image is what the cluster runs."""
    if plan.project.env.kind != "docker":
        raise RunError(
            f"-b {request.backend} runs docker_env projects; this one declares "
            f"{plan.project.env.kind} (MLflow requires the same)",
            "add a docker_env section to the MLproject",
        )
    build = bool(request.backend_config.get("build_image", False))
    options = replace(plan.env_options, build_image=build)
    env = envs.get_manager("docker").prepare(plan.project, options)
    store.set_tags(prepared.run_id, env.facts.tags())
    image = env.facts.extra_tags["mlflow.docker.image.uri"]
    shell = getattr(env, "shell", "sh")
    return dataclasses.replace(prepared, image=image, image_shell=str(shell))


def node_source(request: RunRequest, plan: Plan) -> tuple[str, str | None]:
    """The project as the node names it: a local path made absolute (it must be on a shared
    filesystem), a URL as given; git sources pinned to the commit resolved here."""
    base, sub = split_subdirectory(request.uri)
    git = plan.fetched.git
    if url_scheme(base) is None and not is_scp_like(base):
        path = (request.cwd / os.path.expanduser(base)).resolve()
        uri = str(path) + (f"#{sub}" if sub else "")
        # in place (maybe with uncommitted changes) unless a version was asked for
        return uri, (git.commit if git and request.version else None)
    return request.uri, (git.commit if git else request.version)
