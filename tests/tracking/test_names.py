"""Generated names and ids look like MLflow's, and every value can come out."""

from __future__ import annotations

import re

import pytest

from mlproj.tracking import names


def test_run_names_fit_mlflow_pattern_and_limit() -> None:
    for _ in range(200):
        name = names.run_name()
        assert re.fullmatch(r"[a-z]+-[a-z]+-\d{1,3}", name), name
        assert len(name) <= 20


def test_experiment_ids_are_18_digits_without_a_leading_zero() -> None:
    ids = {names.experiment_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"[1-9]\d{17}", i) for i in ids)


@pytest.mark.parametrize("n", [1, 2, 9, 10, 48, 1000])
def test_below_draws_every_value_and_nothing_else(n: int) -> None:
    drawn = {names._below(n) for _ in range(30 * n)}
    # for n = 1000, 30000 draws miss a given value with probability e^-30
    assert drawn == set(range(n))
