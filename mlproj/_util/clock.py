"""The one clock of recorded times: milliseconds since the epoch, as MLflow stores them."""

from __future__ import annotations

import time


def now_ms() -> int:
    return int(time.time() * 1000)
