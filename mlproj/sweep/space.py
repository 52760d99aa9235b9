"""A sweep's search space: `-P name=SPEC` values -> the list of parameter combinations.

    -P epochs=1,2          a list: every value in a grid, one at random with --random
    -P lr=0.001..0.1       a range (int or float parameters): needs --random; uniform
    -P lr=log:1e-4..1e-1   a range sampled log-uniformly; needs --random
    -P seed=7              one value: the same in every combination

A literal comma in a value is written `\\,`. Range syntax is only read for numeric parameters
(and undeclared ones with numeric ends), so a path such as `../data` stays a path.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mlproj.errors import ParamError
from mlproj.spec.model import ParamKind

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^(log:)?\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*$")
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool
    integer: bool  # draw whole numbers (an int parameter)


@dataclass(frozen=True)
class Axis:
    name: str
    spec: str  # as the user typed it; logged on the parent run
    domain: Choice | Range


def parse_axes(specs: Mapping[str, str], kinds: Mapping[str, ParamKind]) -> tuple[Axis, ...]:
    """One axis per -P, in the order given. `kinds` has the declared parameters' types."""
    return tuple(
        Axis(name, spec, _domain(name, spec, kinds.get(name))) for name, spec in specs.items()
    )


def _domain(name: str, spec: str, kind: ParamKind | None) -> Choice | Range:
    match = _RANGE.match(spec)
    numeric = kind in ("int", "float") or (kind is None and match is not None)
    if numeric and match is not None:
        return _range(name, spec, match, integer=kind == "int")
    if numeric and spec.startswith("log:"):
        raise ParamError(
            f"-P {name}={spec}: not a range", "write log:LOW..HIGH, e.g. log:1e-4..1e-1"
        )
    values = tuple(v.replace("\\,", ",") for v in _UNESCAPED_COMMA.split(spec))
    if len(values) > 1 and any(v == "" for v in values):
        raise ParamError(f"-P {name}={spec}: empty value in the list", "remove the extra comma")
    return Choice(values)


def _range(name: str, spec: str, match: re.Match[str], *, integer: bool) -> Range:
    log = match.group(1) is not None
    low_text, high_text = match.group(2), match.group(3)
    if integer:
        try:
            low, high = float(int(low_text, 10)), float(int(high_text, 10))
        except ValueError:
            raise ParamError(
                f"-P {name}={spec}: '{name}' is an int parameter; its range needs whole numbers"
            ) from None
    else:
        low, high = float(low_text), float(high_text)
    if not low < high:
        raise ParamError(f"-P {name}={spec}: the range is empty", "write LOW..HIGH with LOW < HIGH")
    if log and low <= 0:
        raise ParamError(f"-P {name}={spec}: a log range needs LOW > 0")
    return Range(low, high, log, integer)


def has_ranges(axes: tuple[Axis, ...]) -> bool:
    return any(isinstance(axis.domain, Range) for axis in axes)


def grid(axes: tuple[Axis, ...]) -> list[dict[str, str]]:
    """Every combination of the lists, the first -P varying slowest."""
    ranges = [a for a in axes if isinstance(a.domain, Range)]
    if ranges:
        first = ranges[0]
        raise ParamError(
            f"-P {first.name}={first.spec}: a range is sampled, not enumerated",
            "add --random N (and --seed S to repeat it), or give a list such as 1,2,3",
        )
    lists = [a.domain.values for a in axes if isinstance(a.domain, Choice)]
    names = [a.name for a in axes]
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*lists)]


def sample(axes: tuple[Axis, ...], count: int, seed: int) -> list[dict[str, str]]:
    """`count` combinations drawn independently per axis; the same seed gives the same list."""
    rng = random.Random(seed)
    return [{axis.name: _draw(axis.domain, rng) for axis in axes} for _ in range(count)]


def _draw(domain: Choice | Range, rng: random.Random) -> str:
    if isinstance(domain, Choice):
        return rng.choice(domain.values)
    if domain.log:
        value = math.exp(rng.uniform(math.log(domain.low), math.log(domain.high)))
    elif domain.integer:
        return str(rng.randint(int(domain.low), int(domain.high)))
    else:
        value = rng.uniform(domain.low, domain.high)
    if domain.integer:
        return str(min(int(domain.high), max(int(domain.low), round(value))))
    return f"{value:.6g}"


def varying(axes: tuple[Axis, ...]) -> list[str]:
    """The names whose value differs between combinations (the columns worth showing)."""
    return [
        a.name for a in axes if not (isinstance(a.domain, Choice) and len(a.domain.values) == 1)
    ]
