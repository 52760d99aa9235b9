"""The variables a `conda activate` would set, read as data from the prefix.

conda keeps them in two documented places: `etc/conda/env_vars.d/*.json` (shipped by packages)
and `conda-meta/state` (`env_vars`, written from conda.yml's `variables:` or `conda env config
vars set`); the state file wins. Shell scripts in `etc/conda/activate.d/` are code, not data:
they are not run, and the build says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlproj.errors import EnvError

STATE_FILE = Path("conda-meta") / "state"


def env_vars(prefix: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted((prefix / "etc" / "conda" / "env_vars.d").glob("*.json")):
        found.update(_str_map(_read_json(path)))
    state = _read_json(prefix / STATE_FILE)
    found.update(_str_map(state.get("env_vars") if isinstance(state, dict) else None))
    return found


def activation_scripts(prefix: Path) -> list[Path]:
    return sorted((prefix / "etc" / "conda" / "activate.d").glob("*"))


def conda_file_variables(conda_file: Path) -> dict[str, str]:
    """conda.yml's `variables:` mapping (names to values; conda stores them as strings)."""
    import yaml

    data = yaml.safe_load(conda_file.read_text(encoding="utf-8"))
    raw = data.get("variables") if isinstance(data, dict) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise EnvError(f"{conda_file}: 'variables' must be a mapping of names to values")
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def write_state_vars(prefix: Path, variables: Mapping[str, str]) -> None:
    """Store variables where conda itself keeps them, so conda sees them in this prefix too."""
    if not variables:
        return
    path = prefix / STATE_FILE
    state = _read_json(path)
    state = state if isinstance(state, dict) else {}
    state["env_vars"] = {**_str_map(state.get("env_vars")), **variables}
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _str_map(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if v is not None}
