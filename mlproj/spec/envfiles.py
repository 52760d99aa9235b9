"""python_env.yaml and conda.yml: read into typed, frozen objects (see schemas/*.json)."""

from __future__ import annotations

from pathlib import Path

from mlproj.errors import SpecError
from mlproj.spec.model import CondaEnv, PythonEnv

_PYTHON_ENV_KEYS = ("python", "build_dependencies", "dependencies")


def _read_mapping(path: Path) -> dict[object, object]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_bytes(), Loader=loader)  # a SafeLoader
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of keys, got {type(data).__name__}")
    return data


def _str_list(path: Path, key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SpecError(f"{path}: '{key}' must be a list of strings")
    return tuple(value)


def load_python_env(path: Path) -> PythonEnv:
    data = _read_mapping(path)
    unknown = [str(k) for k in data if k not in _PYTHON_ENV_KEYS]
    if unknown:
        raise SpecError(f"{path}: unknown key {unknown[0]!r}", f"use {list(_PYTHON_ENV_KEYS)}")
    python = data.get("python")
    if python is not None and not isinstance(python, str):
        raise SpecError(f"{path}: 'python' must be a string", f'quote it: python: "{python}"')
    return PythonEnv(
        python=python or None,
        build_dependencies=_str_list(path, "build_dependencies", data.get("build_dependencies")),
        dependencies=_str_list(path, "dependencies", data.get("dependencies")),
    )


def load_conda_env(path: Path) -> CondaEnv:
    data = _read_mapping(path)
    name = data.get("name")
    deps: list[str] = []
    pip: list[str] = []
    raw = data.get("dependencies") or []
    if not isinstance(raw, list):
        raise SpecError(f"{path}: 'dependencies' must be a list")
    for item in raw:
        if isinstance(item, str):
            deps.append(item)
        elif isinstance(item, dict) and list(item) == ["pip"]:
            pip.extend(_str_list(path, "pip", item["pip"]))
        else:
            raise SpecError(f"{path}: 'dependencies' entries must be strings or a 'pip:' list")
    return CondaEnv(
        name=None if name is None else str(name),
        channels=_str_list(path, "channels", data.get("channels")),
        dependencies=tuple(deps),
        pip=tuple(pip),
    )
