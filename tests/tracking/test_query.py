"""The --filter / --sort language, evaluated on runs built in memory."""

from __future__ import annotations

import pytest

from mlproj.tracking.base import Run, RunInfo
from mlproj.tracking.query import FilterError, parse_filter, parse_sort, select_runs, sort_runs


def run(name: str, status: str = "FINISHED", start: int = 0, **fields: object) -> Run:
    params = {k[2:]: str(v) for k, v in fields.items() if k.startswith("p_")}
    metrics = {k[2:]: float(v) for k, v in fields.items() if k.startswith("m_")}  # type: ignore[arg-type]
    tags = {k[2:]: str(v) for k, v in fields.items() if k.startswith("t_")}
    info = RunInfo(name * 4, "0", name, status, start, start + 10, "", "ann")
    return Run(info, params, tags, metrics)


RUNS = [
    run("alpha", start=1, p_lr="0.1", p_opt="adam", m_acc=0.9, t_team="nlp"),
    run("beta", start=2, p_lr="0.010", p_opt="sgd", m_acc=0.7, t_team="vision"),
    run("gamma", "FAILED", start=3, p_lr="1e-3", m_acc=float("nan")),
    run("delta", "RUNNING", start=4, p_lr="abc", p_opt="adamw", t_team="nlp-core"),
]
RUNS[0].tags["a.b"] = "dotted"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", ["delta", "gamma", "beta", "alpha"]),
        ("params.lr > 0.01", ["alpha"]),
        ("params.lr >= 0.01", ["beta", "alpha"]),
        ("params.lr = 0.01", ["beta"]),  # "0.010" is the number 0.01
        ("params.lr = '0.01'", []),  # quoted: compared as text
        ("params.lr = '0.010'", ["beta"]),
        ("params.lr < 0.05", ["gamma", "beta"]),  # "abc" is not a number: no match
        ("params.lr != 0.1", ["gamma", "beta"]),
        ("status = 'FINISHED'", ["beta", "alpha"]),
        ("status = 'finished'", ["beta", "alpha"]),
        ("attributes.status != 'FINISHED'", ["delta", "gamma"]),
        ("metrics.acc > 0.8", ["alpha"]),
        ("metrics.acc <= 0.9", ["beta", "alpha"]),  # NaN and absent never match
        ("params.opt LIKE 'adam%'", ["delta", "alpha"]),
        ("params.opt ILIKE 'ADAM_'", ["delta"]),
        ("params.opt NOT LIKE 'adam%'", ["beta"]),
        ("tags.team = 'nlp'", ["alpha"]),
        ("tags.`a.b` = 'dotted'", ["alpha"]),
        ('tags."a.b" = "dotted"', ["alpha"]),
        ("run_name = 'beta'", ["beta"]),
        ("run_name LIKE '%a'", ["delta", "gamma", "beta", "alpha"]),
        ("start_time >= 3", ["delta", "gamma"]),
        ("params.lr > 0.001 and params.opt = 'sgd' and status = 'FINISHED'", ["beta"]),
        ("params.lr > 0.001 AND metrics.acc > 0.8", ["alpha"]),
        ("params.missing = 1", []),
    ],
)
def test_filters_select_the_matching_runs(text: str, names: list[str]) -> None:
    selected, total = select_runs(RUNS, parse_filter(text), [], None)
    assert [r.info.run_name for r in selected] == names
    assert total == len(names)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("params.lr", "expected a comparison"),
        ("params.lr >> 1", "expected a value"),
        ("lr > 1", "params.lr, metrics.lr, tags.lr or an attribute"),
        ("foo.lr > 1", "params., metrics., tags. or attributes."),
        ("attributes.color = 'red'", "one of the attributes"),
        ("metrics.acc = 'high'", "a number to compare metrics.acc with"),
        ("metrics.acc LIKE '0.%'", "LIKE needs text"),
        ("params.a = 1 or params.b = 2", "'or' is not supported"),
        ("params.a = 1 params.b = 2", "expected 'and'"),
        ("params.a = 1 and", "expected a field"),
        ("params.`` = 1", "a non-empty key"),
        ("params.a = 'unclosed", "expected a value"),
    ],
)
def test_bad_filters_are_one_line_usage_errors(text: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(text)
    line = caught.value.one_line()
    assert message in line and "\n" not in line
    assert caught.value.exit_code == 2


def names(runs: list[Run]) -> list[str]:
    return [r.info.run_name for r in runs]


def test_sorting_is_numeric_when_every_value_is_a_number() -> None:
    numeric = [r for r in RUNS if r.info.run_name != "delta"]
    assert names(sort_runs(numeric, [parse_sort("params.lr")])) == ["gamma", "beta", "alpha"]
    assert names(sort_runs(numeric, [parse_sort("-params.lr")])) == ["alpha", "beta", "gamma"]


def test_runs_without_the_sort_key_come_last_both_ways() -> None:
    assert names(sort_runs(RUNS, [parse_sort("-metrics.acc")]))[-1] == "delta"
    assert names(sort_runs(RUNS, [parse_sort("metrics.acc")]))[-1] == "delta"
    assert names(sort_runs(RUNS, [parse_sort("tags.team DESC")])) == [
        "beta",
        "delta",
        "alpha",
        "gamma",
    ]  # fmt: skip  (vision > nlp-core > nlp)


def test_several_sort_keys_apply_in_order() -> None:
    keys = [parse_sort("status"), parse_sort("-start_time")]
    assert names(sort_runs(RUNS, keys)) == ["gamma", "beta", "alpha", "delta"]


def test_limit_cuts_after_sorting_and_reports_the_total() -> None:
    selected, total = select_runs(RUNS, parse_filter(""), [parse_sort("run_name")], 2)
    assert (names(selected), total) == (["alpha", "beta"], 4)


@pytest.mark.parametrize("text", ["", "-", "params.", "metrics.acc sideways"])
def test_bad_sort_keys_are_usage_errors(text: str) -> None:
    with pytest.raises(FilterError):
        parse_sort(text)
