"""The job script of a dry run with a cluster backend, printed so that it can be read or copied
verbatim: between two marker lines, exactly as the submission would write it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

BEGIN = "----- job.sh -----"
END = "----- end of job.sh -----"


def print_job(job: Mapping[str, Any]) -> None:
    click.echo("job script, as the submission writes it (the run's artifact slurm/job.sh):")
    for placeholder, meaning in job["placeholders"].items():
        click.echo(f"  {placeholder}: {meaning}")
    click.echo(BEGIN)
    click.echo(job["script"], nl=False)
    click.echo(END)
    click.echo(f"sbatch command: {job['sbatch']}")
    click.echo("dry run: no run created, nothing written or submitted")
