"""Slurm's EndTime as a run's end: scontrol's local time read as epoch ms, and when it is used
instead of the moment mlproj noticed the job was gone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mlproj.backends.slurm.commands import parse_time


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in Berlin's zone (UTC+1, +2 in summer), so local and UTC readings differ;
    spelled as a POSIX rule, which needs no tzdata."""
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("berlin")
def test_scontrol_times_are_local_time() -> None:
    # 2026-11-30 is winter time in Berlin (UTC+1); 2026-07-01 summer time (UTC+2)
    assert parse_time("2026-11-30T22:51:07") == 1796075467000  # 21:51:07 UTC
    assert parse_time("2026-07-01T12:00:00") == 1782900000000  # 10:00:00 UTC


@pytest.mark.parametrize("text", ["Unknown", "None", "N/A", "", "2026-11-30", "yesterday"])
def test_no_time_is_none(text: str) -> None:
    assert parse_time(text) is None
