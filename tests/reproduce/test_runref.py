"""How a user names a run for `reproduce` and `runs diff`."""

from __future__ import annotations

import pytest

from mlproj.commands.runref import RunRef, looks_like_run_reference, parse_run_ref
from mlproj.errors import UsageError

RUN = "7b41d0aa9c2e4f0f8e6c1d2a3b4c5d6e"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7b41d0aa", RunRef("7b41d0aa", "./store")),
        (f"runs:/{RUN}", RunRef(RUN, "./store")),
        (f"runs:/{RUN}/model", RunRef(RUN, "./store")),
        (f"https://host/#/experiments/1/runs/{RUN}", RunRef(RUN, "https://host")),
        (
            f"http://127.0.0.1:5000/mlflow/#/experiments/3/runs/{RUN}",
            RunRef(RUN, "http://127.0.0.1:5000/mlflow"),
        ),
        (f"https://host/#/experiments/1/runs/{RUN}/artifacts", RunRef(RUN, "https://host")),
    ],
)
def test_run_references(text: str, expected: RunRef) -> None:
    assert parse_run_ref(text, "./store") == expected


def test_store_and_run_pairs_are_for_diff_only() -> None:
    assert parse_run_ref("./mlruns#3f2a9c1e", None, allow_store=True) == RunRef(
        "3f2a9c1e", "./mlruns"
    )
    with pytest.raises(UsageError, match="--tracking-uri"):
        parse_run_ref("./mlruns#3f2a9c1e", None)


@pytest.mark.parametrize("text", ["../etc/passwd", "a b", "./mlruns#not-hex"])
def test_bad_references_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_run_ref(text, None, allow_store=True)


def test_only_run_references_are_refused_by_run() -> None:
    assert looks_like_run_reference(f"runs:/{RUN}")
    assert looks_like_run_reference(f"https://host/#/experiments/1/runs/{RUN}")
    assert not looks_like_run_reference("https://host/team/repo.git#models/cnn")
