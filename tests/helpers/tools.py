"""External tools some tests need: where one is missing, those tests skip and say why."""

from __future__ import annotations

import functools

import pytest

UV_MISSING = "uv is not installed (it comes with mlproj's dependencies: pip install uv)"


@functools.cache
def _find_uv() -> str | None:
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return None


def uv_bin() -> str:
    """The uv binary; skips the calling test (or fixture) when there is none."""
    found = _find_uv()
    if found is None:
        pytest.skip(UV_MISSING)
    return found


# For tests that make mlproj build a virtualenv (or a conda env's pip section), which needs uv.
needs_uv = pytest.mark.skipif(_find_uv() is None, reason=UV_MISSING)
