"""Slurm's EndTime as a run's end: scontrol's local time read as epoch ms, and when it is used
instead of the moment mlproj noticed the job was gone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from mlproj.backends.slurm.backend import slurm_end_time
from mlproj.backends.slurm.commands import JobState, parse_time


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


START = 1_796_075_467_250  # the run created a quarter second into 21:51:07 UTC
NOW = START + 3 * 3600 * 1000  # listed three hours later


def _ended(state: str, end: int | None) -> JobState:
    return JobState(state, end_time=end)


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (_ended("CANCELLED", START + 60_750), START + 60_750),  # Slurm's end, not the listing's
        (_ended("TIMEOUT", START + 5_000), START + 5_000),
        (_ended("CANCELLED", START - 250), START),  # the same whole second as the start
        (_ended("CANCELLED", START - 5_000), None),  # before the run began: clocks apart
        (_ended("CANCELLED", NOW + 60_000), None),  # in the future: clocks apart
        (_ended("CANCELLED", None), None),  # EndTime=Unknown
        (_ended("UNKNOWN", None), None),  # Slurm forgot the job
        (_ended("RUNNING", START + 3600_000), None),  # a projected end, not an end
        (_ended("COMPLETING", START + 60_000), None),
    ],
)
def test_end_time_from_slurm_or_now(job: JobState, expected: int | None) -> None:
    assert slurm_end_time(job, START, NOW) == expected


def test_a_run_without_start_takes_slurms_end() -> None:
    assert slurm_end_time(_ended("CANCELLED", START), None, NOW) == START
