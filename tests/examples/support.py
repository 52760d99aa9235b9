"""Helpers for the example's tests: where it lives, and torch as a hard need in CI only."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parents[2] / "examples" / "cnn_project"


def require_torch() -> None:
    """CI installs torch (.ci/setup.d/25-example.sh), so there a missing torch is a failure."""
    if os.environ.get("CI"):
        import torch  # noqa: F401
    else:
        pytest.importorskip("torch", reason="pip install torch==2.13.0 to test the example")


@functools.cache
def gpu() -> bool:
    """Whether torch sees a CUDA GPU here (asked once: importing torch takes seconds)."""
    require_torch()
    import torch

    return bool(torch.cuda.is_available())
