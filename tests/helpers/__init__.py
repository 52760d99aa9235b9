"""Helpers shared by the tests: import them from here, not from another test's conftest.

- projects: `write_project` (an MLproject and its files in a directory)
- waiting: `wait_until` (the one bounded polling loop), `WaitFailed`
- processes: `alive` (is a pid running, zombies excluded), `run_cli` (`python -m mlproj ...`),
  `unmeasured_env` (a child's environment without coverage's measurement)
- net: `free_port`, `wait_for_port` (servers the tests start on 127.0.0.1)
- tools: `uv_bin`, `needs_uv` (skip with a reason where uv is missing)
- clock: `now_ms` (MLflow's timestamps)
"""

from __future__ import annotations

from tests.helpers.clock import now_ms
from tests.helpers.net import free_port, wait_for_port
from tests.helpers.processes import alive, run_cli, start_cli, unmeasured_env
from tests.helpers.projects import write_project
from tests.helpers.tools import needs_uv, uv_bin
from tests.helpers.waiting import WaitFailed, wait_until

__all__ = [
    "WaitFailed",
    "alive",
    "free_port",
    "needs_uv",
    "now_ms",
    "run_cli",
    "start_cli",
    "unmeasured_env",
    "uv_bin",
    "wait_for_port",
    "wait_until",
    "write_project",
]
