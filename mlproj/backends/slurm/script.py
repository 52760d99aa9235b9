"""The batch script of a run: #SBATCH lines, then `mlproj _exec-run` with the node step."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Sequence

from mlproj import __version__
from mlproj.backends.base import NodeStep
from mlproj.backends.slurm.config import SlurmConfig


def job_name(project_name: str) -> str:
    return "mlproj-" + (re.sub(r"[^\w.-]+", "-", project_name).strip("-") or "run")


def render_script(
    step: NodeStep, config: SlurmConfig, *, project_name: str, output_dir: str
) -> str:
    lines = _header(
        config,
        project_name=project_name,
        output_dir=output_dir,
        logs="slurm-%j",
        about=f"run {step.run_id} in {step.tracking_uri}",
    )
    document = json.dumps(dataclasses.asdict(step), sort_keys=True)
    lines.append(f"exec {shlex.quote(config.python)} -m mlproj _exec-run {shlex.quote(document)}")
    return "\n".join(lines) + "\n"


def render_array_script(
    steps: Sequence[NodeStep],
    config: SlurmConfig,
    *,
    project_name: str,
    output_dir: str,
    parent_run_id: str,
    throttle: int | None = None,
) -> str:
    """One array job for a sweep: task i runs `mlproj _exec-run` with steps[i] (its child run).
    The steps are written into the script, so the job needs nothing from the submitter."""
    last = len(steps) - 1
    lines = _header(
        config,
        project_name=project_name,
        output_dir=output_dir,
        logs="slurm-%A_%a",  # array job id, task id
        about=f"sweep {parent_run_id}, {len(steps)} runs in {steps[0].tracking_uri}",
        array=f"0-{last}" + (f"%{throttle}" if throttle else ""),
    )
    lines.append("steps=(")
    for index, step in enumerate(steps):
        document = json.dumps(dataclasses.asdict(step), sort_keys=True)
        lines.append(f"  {shlex.quote(document)}  # task {index}: run {step.run_id}")
    lines.append(")")
    lines.append(
        f'exec {shlex.quote(config.python)} -m mlproj _exec-run "${{steps[$SLURM_ARRAY_TASK_ID]}}"'
    )
    return "\n".join(lines) + "\n"


def _header(
    config: SlurmConfig,
    *,
    project_name: str,
    output_dir: str,
    logs: str,
    about: str,
    array: str | None = None,
) -> list[str]:
    """The #SBATCH lines, a comment saying what the job runs (`about`), and the config's setup:
    the part of the script a single run and a sweep's array job share."""
    lines = ["#!/bin/bash", f"#SBATCH --job-name={job_name(project_name)}"]
    if array is not None:
        lines.append(f"#SBATCH --array={array}")
    lines += [
        f"#SBATCH --output={output_dir}/{logs}.out",
        f"#SBATCH --error={output_dir}/{logs}.err",
        f"#SBATCH --chdir={output_dir}",
    ]
    lines += [f"#SBATCH {option}={value}" for option, value in config.directives]
    lines += [
        f"# mlproj {__version__}: {about}",
        f"# sbatch arguments: {shlex.join(config.sbatch_args) or '(none)'}",
    ]
    if config.setup:
        lines.append(config.setup.rstrip("\n"))
    return lines
