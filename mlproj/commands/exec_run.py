"""`mlproj _exec-run STEP_JSON` (hidden): the node-side step of a remote backend's job.

It marks the run RUNNING (the submitter left it SCHEDULED while the job was queued), runs the
entry point into it (fetching the project and building the env in this node's cache), ends the
run, and lets the backend record what the engine says (e.g. Slurm's reason for a kill), so the
run ends with a final status even when nobody waits.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command(hidden=True)
@click.argument("step_json")
def command(step_json: str) -> None:
    from mlproj import backends, output
    from mlproj.backends.base import NodeStep
    from mlproj.envs.base import EnvOptions
    from mlproj.errors import MlprojError
    from mlproj.run import runner
    from mlproj.tracking import open_store
    from mlproj.tracking.lifecycle import finish_run, mark_status
    from mlproj.tracking.owner import owner_tags

    raw = json.loads(step_json)
    step = NodeStep(**raw)
    options = dict(step.env_options)
    options["docker_args"] = tuple(tuple(pair) for pair in options.get("docker_args", ()))
    request = runner.RunRequest(
        uri=step.uri,
        cwd=Path.cwd(),
        entry_point=step.entry_point,
        version=step.version,
        params=step.params,
        env_manager=step.env_manager,
        env_options=EnvOptions(**options),
        tracking_uri=step.tracking_uri,
        grace=step.grace,
        storage_dir=step.storage_dir,
        run_id=step.run_id,
    )
    backend = backends.get_backend(step.backend)
    code = 1
    store = open_store(step.tracking_uri)
    try:
        # this process owns the run from now on (tracking/owner.py), and it has started
        store.set_tags(step.run_id, owner_tags())
        mark_status(store, step.run_id, "RUNNING")
        result = runner.run(request)
        code = result.exit_code
    except MlprojError as exc:  # e.g. the project is not where the node looks: end the run
        output.error(exc.one_line())
        store.set_tags(step.run_id, {"mlproj.error": exc.one_line()[:5000]})
        finish_run(store, step.run_id, "FAILED")
    finally:
        backend.node_finished(store, step.run_id)
        status = store.get_run(step.run_id).info.status
        output.note(f"run {step.run_id} {status}")
    sys.exit(code)
