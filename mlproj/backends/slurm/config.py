"""The Slurm backend's config keys (`-c key=value` or a .json/.yaml file), checked up front."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlproj.errors import UsageError

# key -> (sbatch option, pattern of a valid value)
_SBATCH_KEYS: dict[str, tuple[str, str]] = {
    "partition": ("--partition", r"[\w.,-]+"),
    "time": ("--time", r"\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d+(:\d{1,2}){0,2}"),
    "gpus": ("--gpus", r"(\w+:)?\d+"),
    "mem": ("--mem", r"\d+[KMGT]?"),
    "cpus": ("--cpus-per-task", r"\d+"),
    "account": ("--account", r"[\w.-]+"),
}
_OTHER_KEYS = ("sbatch_args", "python", "setup", "output_dir", "grace")


@dataclass(frozen=True)
class SlurmConfig:
    directives: tuple[tuple[str, str], ...] = ()  # (sbatch option, value) for #SBATCH lines
    sbatch_args: tuple[str, ...] = ()  # extra sbatch command-line arguments
    python: str = sys.executable  # the interpreter that runs mlproj on the node
    setup: str = ""  # shell lines before mlproj starts (e.g. `module load python`)
    output_dir: str | None = None  # where the job's stdout/stderr files go
    grace: float = 3.0


def parse_config(raw: Mapping[str, Any]) -> SlurmConfig:
    unknown = sorted(set(raw) - set(_SBATCH_KEYS) - set(_OTHER_KEYS))
    if unknown:
        raise UsageError(
            f"unknown Slurm backend config key {unknown[0]!r}",
            f"the keys are {', '.join([*_SBATCH_KEYS, *_OTHER_KEYS])}",
        )
    directives = []
    for key, (option, pattern) in _SBATCH_KEYS.items():
        if raw.get(key) in (None, ""):
            continue
        value = str(raw[key])
        if not re.fullmatch(pattern, value):
            raise UsageError(f"Slurm backend config: bad value {key}={value!r}", _example(key))
        directives.append((option, value))
    args = raw.get("sbatch_args") or ()
    try:
        extra = tuple(shlex.split(args) if isinstance(args, str) else (str(a) for a in args))
    except ValueError as exc:
        raise UsageError(f"Slurm backend config: sbatch_args: {exc}") from None
    try:
        grace = float(raw.get("grace", 3.0))
    except (TypeError, ValueError):
        raise UsageError(f"Slurm backend config: grace={raw['grace']!r} is not seconds") from None
    return SlurmConfig(
        directives=tuple(directives),
        sbatch_args=extra,
        python=str(raw.get("python") or sys.executable),
        setup=str(raw.get("setup") or ""),
        output_dir=str(raw["output_dir"]) if raw.get("output_dir") else None,
        grace=grace,
    )


def _example(key: str) -> str:
    return {
        "time": "minutes, MM:SS, HH:MM:SS or D-HH:MM:SS, e.g. time=2:00:00",
        "mem": "e.g. mem=8G",
        "gpus": "a count or type:count, e.g. gpus=1 or gpus=a100:2",
        "cpus": "a count, e.g. cpus=4",
    }.get(key, f"e.g. {key}=name")
