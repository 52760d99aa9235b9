"""One thing in a cache that `mlproj cache prune` may remove: what it is, how big, when it was
last used, and how to remove it unless a running run holds it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Prunable:
    kind: str  # "environment", "git checkout", "zip copy", "docker image"
    name: str
    size_bytes: int
    last_used: float  # epoch seconds
    remove: Callable[[], bool]  # False: in use (leased or locked), left alone
