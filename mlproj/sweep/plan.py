"""A sweep, checked before anything starts: the project loaded once and every combination's
values type-checked and rendered into a planned run that a backend can execute."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from mlproj import spec
from mlproj.errors import ParamError
from mlproj.run import runner
from mlproj.sweep import space

MAX_COMBINATIONS = 10_000  # a typo such as 1..100000 with --random must not create that many runs


@dataclass(frozen=True)
class SweepRequest:
    run: runner.RunRequest  # everything `run` takes; its params are the -P specs
    random: int | None = None  # draw this many combinations instead of the grid
    seed: int | None = None  # for --random; drawn (and recorded) when not given
    jobs: int = 1
    metric: str | None = None
    maximize: bool = True
    fail_fast: bool = False
    follow: bool = False


@dataclass(frozen=True)
class PlannedRun:
    """One combination, checked and rendered, before its child run exists. A backend executes
    it into a created child run (the local pool here; for cluster backends each one becomes a
    backends.base.PreparedRun once its run is created)."""

    index: int  # 1-based, in the order of the sweep
    params: Mapping[str, str]  # this combination's -P values
    plan: runner.Plan


@dataclass(frozen=True)
class SweepPlan:
    loaded: runner.LoadedProject
    axes: tuple[space.Axis, ...]
    mode: str  # "grid" or "random"
    seed: int | None
    runs: tuple[PlannedRun, ...]


def make_sweep_plan(request: SweepRequest, fetch: spec.RemoteFetch | None = None) -> SweepPlan:
    """Load the project once, expand the -P specs, check every combination as `run` would."""
    if request.seed is not None and request.random is None:
        raise ParamError("--seed only applies to a random sweep", "add --random N")
    loaded = runner.load_project(request.run)
    entry = spec.get_entry_point(loaded.project, request.run.entry_point)
    kinds = {p.name: p.kind for p in entry.parameters}
    axes = space.parse_axes(request.run.params, kinds)
    seed = request.seed
    if request.random is not None:
        seed = seed if seed is not None else random.SystemRandom().randrange(2**31)
        combinations = space.sample(axes, request.random, seed)
    else:
        combinations = space.grid(axes)
    if len(combinations) > MAX_COMBINATIONS:
        raise ParamError(
            f"the sweep has {len(combinations)} combinations (at most {MAX_COMBINATIONS})",
            "shorten the lists, or sample them with --random N",
        )
    runs = _prepare_all(loaded, request.run, combinations, fetch)
    mode = "random" if request.random is not None else "grid"
    return SweepPlan(loaded, axes, mode, seed, runs)


def _prepare_all(
    loaded: runner.LoadedProject,
    request: runner.RunRequest,
    combinations: list[dict[str, str]],
    fetch: spec.RemoteFetch | None,
) -> tuple[PlannedRun, ...]:
    """Every combination checked; all distinct problems reported at once, as `run` words them."""
    runs: list[PlannedRun] = []
    problems: dict[str, None] = {}
    for index, params in enumerate(combinations, 1):
        try:
            runs.append(PlannedRun(index, params, runner.plan_for(loaded, request, params, fetch)))
        except ParamError as exc:
            problems.setdefault(exc.one_line(), None)
    if problems:
        raise ParamError("; ".join(problems))
    return tuple(runs)


def describe(plan: SweepPlan) -> dict[str, object]:
    """The combinations and their commands (for --dry-run)."""
    return {
        "mode": plan.mode,
        "seed": plan.seed,
        "entry_point": plan.runs[0].plan.command.entry_point,
        "project_dir": str(plan.loaded.project.directory),
        "combinations": [
            {"index": run.index, "params": dict(run.params), "command": run.plan.command.command}
            for run in plan.runs
        ],
    }
