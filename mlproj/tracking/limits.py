"""What MLflow accepts as a param, tag or metric: names that can be file names, and values
within its length limits. Checked by the stores, and by the runner before a run exists."""

from __future__ import annotations

import re

from mlproj.errors import TrackingError

MAX_PARAM_VALUE = 6000  # MLflow's limit on a logged param value
_KEY = re.compile(r"[/\w.\- :]*\Z")


def check_key(kind: str, key: str) -> None:
    """MLflow's rule for param/tag/metric names (the file store makes them file paths)."""
    parts = key.split("/")
    if (
        not key
        or not _KEY.match(key)
        or key.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise TrackingError(
            f"invalid {kind} name {key!r}",
            hint="names may only contain alphanumerics, underscores, dashes, periods, spaces, "
            "colons and slashes, and must not contain '..' or empty path parts",
        )


def check_param(key: str, value: str) -> None:
    """Raise TrackingError for a param that a store would refuse."""
    check_key("parameter", key)
    if len(value) > MAX_PARAM_VALUE:
        raise TrackingError(
            f"the value of parameter {key!r} is {len(value)} characters long",
            f"tracking stores keep at most {MAX_PARAM_VALUE}; pass a file path instead",
        )
