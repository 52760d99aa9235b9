"""`-c/--backend-config`: MLflow's forms (a .json file, a JSON string) plus a .yaml file and
`key=value` pairs; repeatable, later values win."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlproj.errors import UsageError

_FILE_SUFFIXES = (".json", ".yaml", ".yml")


def parse_backend_config(values: Iterable[str], cwd: Path) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for value in values:
        config.update(_parse_one(value, cwd))
    return config


def _parse_one(value: str, cwd: Path) -> dict[str, Any]:
    if value.lower().endswith(_FILE_SUFFIXES):
        return _read_file(cwd / value)
    if value.lstrip().startswith("{"):
        try:
            loaded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"-c {value!r}: invalid backend config JSON: {exc.msg} at column {exc.colno}"
            ) from None
        return _mapping(loaded, f"-c {value!r}")
    key, sep, item = value.partition("=")
    if not sep or not key.strip():
        raise UsageError(
            f"-c {value!r}: not a config file, JSON object or key=value",
            'use -c partition=gpu, -c config.yaml or -c \'{"time": "1:00:00"}\'',
        )
    return {key.strip(): item}


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise UsageError(f"backend config file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read backend config {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"{path}:{exc.lineno}: invalid JSON: {exc.msg}", "fix the backend config file"
            ) from None
    else:
        import yaml

        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark is not None else ""
            raise UsageError(
                f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}",
                "fix the backend config file",
            ) from None
    return _mapping(loaded if loaded is not None else {}, str(path))


def _mapping(loaded: Any, where: str) -> dict[str, Any]:
    if not isinstance(loaded, dict):
        raise UsageError(f"{where}: the backend config must be a mapping of keys to values")
    return {str(k): v for k, v in loaded.items()}
