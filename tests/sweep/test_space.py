"""The -P specs of a sweep: lists, ranges, and what is refused (pure functions, no runs)."""

from __future__ import annotations

import pytest

from mlproj.errors import ParamError
from mlproj.sweep import space


def test_lists_make_a_grid_first_name_slowest() -> None:
    axes = space.parse_axes({"a": "1,2", "b": "x,y", "c": "7"}, {"a": "int"})
    assert space.grid(axes) == [
        {"a": "1", "b": "x", "c": "7"},
        {"a": "1", "b": "y", "c": "7"},
        {"a": "2", "b": "x", "c": "7"},
        {"a": "2", "b": "y", "c": "7"},
    ]
    assert space.varying(axes) == ["a", "b"]


def test_escaped_comma_and_relative_paths_stay_values() -> None:
    axes = space.parse_axes({"s": r"a\,b,c", "p": "../data"}, {"s": "string", "p": "path"})
    assert space.grid(axes) == [{"s": "a,b", "p": "../data"}, {"s": "c", "p": "../data"}]


def test_ranges_are_sampled_within_bounds_and_repeatably() -> None:
    axes = space.parse_axes({"n": "2..4", "lr": "log:1e-4..1e-1", "x": "0.5..1.5"}, {"n": "int"})
    first = space.sample(axes, 50, seed=3)
    assert first == space.sample(axes, 50, seed=3)
    assert first != space.sample(axes, 50, seed=4)
    assert {row["n"] for row in first} == {"2", "3", "4"}
    assert all(1e-4 <= float(row["lr"]) <= 1e-1 for row in first)
    assert all(0.5 <= float(row["x"]) <= 1.5 for row in first)


@pytest.mark.parametrize(
    ("spec", "kind", "message"),
    [
        ("1..3", "int", "a range is sampled, not enumerated"),
        ("3..1", "int", "the range is empty"),
        ("0.5..2", "int", "its range needs whole numbers"),
        ("log:0..1", "float", "a log range needs LOW > 0"),
        ("log:a..b", "float", "not a range"),
        ("1,,2", "int", "empty value in the list"),
    ],
)
def test_bad_specs_are_refused_with_the_fix(spec: str, kind: str, message: str) -> None:
    with pytest.raises(ParamError) as info:
        space.grid(space.parse_axes({"p": spec}, {"p": kind}))  # type: ignore[dict-item]
    assert message in info.value.one_line()
