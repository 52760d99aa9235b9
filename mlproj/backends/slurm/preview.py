"""What `--dry-run -b slurm` shows: the job script exactly as the submission writes it (its
artifact slurm/job.sh) and the sbatch command line, with placeholders for what only creating
the run decides (its id, a new experiment's id); nothing is written, created or submitted."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlproj._util.redact import redact
from mlproj.backends.base import NodeStep
from mlproj.backends.slurm.backend import output_path
from mlproj.backends.slurm.commands import sbatch_argv
from mlproj.backends.slurm.config import SlurmConfig, parse_config
from mlproj.backends.slurm.script import render_array_script, render_script
from mlproj.tracking.planned import NEW_EXPERIMENT_ID, PlannedArtifacts

OUTPUT_DIR = "<output-dir>"


@dataclass(frozen=True)
class JobPreview:
    script: str  # secrets redacted
    sbatch: tuple[str, ...]  # the command line that would submit it
    placeholders: Mapping[str, str]  # placeholder -> what the submission puts in its place

    def to_json(self) -> dict[str, Any]:
        return {
            "script": self.script,
            "sbatch": shlex.join(self.sbatch),
            "placeholders": dict(self.placeholders),
        }


def run_job(
    step: NodeStep,
    raw_config: Mapping[str, Any],
    *,
    project_name: str,
    artifacts: PlannedArtifacts,
    placeholders: Mapping[str, str],
) -> JobPreview:
    """The batch script of `mlproj run -b slurm` (SlurmBackend.submit)."""
    config = parse_config(raw_config)
    notes = dict(placeholders)
    output_dir = _output_dir(step.run_id, artifacts, config, notes)
    script = render_script(step, config, project_name=project_name, output_dir=output_dir)
    return _preview(script, output_dir, config, notes)


def array_job(
    steps: Sequence[NodeStep],
    raw_config: Mapping[str, Any],
    *,
    project_name: str,
    artifacts: PlannedArtifacts,
    parent_run_id: str,
    throttle: int | None,
    placeholders: Mapping[str, str],
) -> JobPreview:
    """The array job of `mlproj sweep -b slurm` (sweep/slurm_array.py), in the parent's dir."""
    config = parse_config(raw_config)
    notes = dict(placeholders)
    output_dir = _output_dir(parent_run_id, artifacts, config, notes)
    script = render_array_script(
        steps,
        config,
        project_name=project_name,
        output_dir=output_dir,
        parent_run_id=parent_run_id,
        throttle=throttle,
    )
    return _preview(script, output_dir, config, notes)


def _output_dir(
    run_id: str, artifacts: PlannedArtifacts, config: SlurmConfig, notes: dict[str, str]
) -> str:
    """backend.output_path for a run that does not exist yet."""
    if artifacts.uri is None and not config.output_dir:
        notes[OUTPUT_DIR] = (
            "the run's artifact directory + /slurm when it is a local path, else ~/.mlproj/slurm/"
            f" + the run id; not known before the run exists: {artifacts.why_unknown}"
        )
        return OUTPUT_DIR
    if artifacts.new_experiment and not config.output_dir:
        notes[NEW_EXPERIMENT_ID] = "the id of the experiment that the submission creates"
    return str(output_path(run_id, artifacts.uri or "", config))


def _preview(
    script: str, output_dir: str, config: SlurmConfig, notes: dict[str, str]
) -> JobPreview:
    argv = sbatch_argv(f"{output_dir}/job.sh", config.sbatch_args)
    return JobPreview(redact(script), tuple(redact(arg) for arg in argv), notes)
