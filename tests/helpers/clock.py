"""Timestamps as MLflow stores them."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch (MLflow's start_time / end_time / metric timestamps)."""
    return int(time.time() * 1000)
