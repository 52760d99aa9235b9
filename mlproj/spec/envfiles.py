"""python_env.yaml and conda.yml: their typed, frozen views and the loaders that fill them.

The shapes are those of schemas/python_env.schema.json and schemas/conda.schema.json (the
tests hold the two in agreement). Checking by hand instead of through a JSON Schema library
keeps the start-up path light and lets each message name the line and the fix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mlproj.spec import yamltree
from mlproj.spec.problems import Problems, did_you_mean, raise_first_error
from mlproj.spec.yamltree import Map, Node, Scalar, Seq, kind_name, kind_only


@dataclass(frozen=True)
class PythonEnv:
    """python_env.yaml."""

    python: str | None = None  # a version request such as "3.11" or "3.11.7"; None = any
    build_dependencies: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()  # pip requirement lines, "-r file" allowed
    warnings: tuple[str, ...] = ()  # what was accepted but not as written (shown at build)


@dataclass(frozen=True)
class CondaEnv:
    """conda.yml / conda.yaml / environment.yml."""

    name: str | None = None
    channels: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()  # conda match specs, e.g. "python=3.11", "numpy>=1.26"
    pip: tuple[str, ...] = ()  # the `- pip: [...]` sub-list


PYTHON_ENV_KEYS = ("python", "build_dependencies", "dependencies")
CONDA_KEYS = ("name", "channels", "dependencies", "prefix", "variables")


def load_python_env(path: Path) -> PythonEnv:
    """Read python_env.yaml; raise SpecError (with line and column) if MLflow would refuse it."""
    problems = Problems(path)
    env = check_python_env(path, yamltree.load(path, problems), problems)
    raise_first_error(problems.items)
    warnings = tuple(f"{p.file.name}:{p.line}: {p.message}" for p in problems.items)
    return dataclasses.replace(env, warnings=warnings) if warnings else env


def load_conda_env(path: Path) -> CondaEnv:
    """Read conda.yml; `pip:` entries are kept as written, other entries are match specs."""
    problems = Problems(path)
    env = check_conda_env(path, yamltree.load(path, problems), problems)
    raise_first_error(problems.items)
    return env


def _root(path: Path, root: Node | None, keys: tuple[str, ...], problems: Problems) -> Map:
    if isinstance(root, Map):
        return root
    what = "empty" if root is None else f"{kind_only(root)}, not a mapping"
    problems.error(
        root.line if root else 0,
        root.col if root else 0,
        f"{path.name} is {what}; it needs keys such as {', '.join(keys)}",
    )
    return Map(0, 0)


def _strings(node: Node | None, key: str, problems: Problems, example: str) -> tuple[str, ...]:
    """A list of strings (None/empty allowed); anything else is an error."""
    if node is None or (isinstance(node, Scalar) and node.value is None):
        return ()
    if not isinstance(node, Seq):
        fix = f"; write it as a list: [{node.text}]" if isinstance(node, Scalar) else ""
        problems.error_at(
            node, f"`{key}` must be a list (e.g. [{example}]), not {kind_name(node)}{fix}"
        )
        return ()
    result = []
    for item in node.items:
        if isinstance(item, Scalar) and isinstance(item.value, str):
            result.append(item.value)
        else:
            problems.error_at(
                item, f"entries of `{key}` must be strings, not {kind_name(item)}; quote it"
            )
    return tuple(result)


def check_python_env(path: Path, root: Node | None, problems: Problems) -> PythonEnv:
    data = _root(path, root, PYTHON_ENV_KEYS, problems)
    for key, _ in data.pairs:
        if key.value not in PYTHON_ENV_KEYS:  # MLflow passes the keys as arguments: TypeError
            problems.error_at(
                key,
                f"unknown key '{key.text}' in {path.name}"
                f"{did_you_mean(str(key.value), PYTHON_ENV_KEYS)} (keys: "
                f"{', '.join(PYTHON_ENV_KEYS)})",
            )
    python = data.value("python")
    version = None
    if isinstance(python, Scalar) and isinstance(python.value, str):
        version = python.value or None
    elif python is not None and not (isinstance(python, Scalar) and python.value is None):
        fix = f'; quote it: python: "{python.text}"' if isinstance(python, Scalar) else ""
        problems.error_at(
            python, f"`python` must be a version string, not {kind_name(python)}{fix}"
        )
    return PythonEnv(
        python=version,
        build_dependencies=_build_dependencies(data.value("build_dependencies"), problems),
        dependencies=_python_env_dependencies(data.value("dependencies"), problems),
    )


def _build_dependencies(node: Node | None, problems: Problems) -> tuple[str, ...]:
    """A list; a mapping (`{pip: "24.0"}`) is taken as MLflow takes it: its keys are installed."""
    if not isinstance(node, Map):
        return _strings(node, "build_dependencies", problems, "pip")
    names = [k.text for k, _ in node.pairs]
    pinned = [
        f"{k.text}=={v.value}"
        for k, v in node.pairs
        if isinstance(v, Scalar) and v.value is not None
    ]
    fix = f"; to pin them write a list: [{', '.join(pinned)}]" if pinned else ""
    problems.warn_at(
        node,
        f"`build_dependencies` is a mapping, not a list; as MLflow does, its keys are installed "
        f"({', '.join(names)}) and the values ignored{fix}",
    )
    return tuple(names)


def _python_env_dependencies(node: Node | None, problems: Problems) -> tuple[str, ...]:
    """pip requirement lines; conda.yaml's `- pip: [...]` sub-list gets the fixed text."""
    if isinstance(node, Seq):
        for item in node.items:
            if isinstance(item, Map) and [k.value for k, _ in item.pairs] == ["pip"]:
                problems.error_at(
                    item,
                    "this is conda.yaml syntax; python_env dependencies are a flat list of pip "
                    f"requirements: write `dependencies: [{', '.join(_flattened(node))}]`",
                )
                return ()
    return _strings(node, "dependencies", problems, "-r requirements.txt")


def _flattened(node: Seq) -> list[str]:
    """The items of a python_env `dependencies` list with any `pip:` sub-list spliced in."""
    flat: list[str] = []
    for item in node.items:
        inner = item.pairs[0][1] if isinstance(item, Map) and item.pairs else item
        parts = inner.items if isinstance(inner, Seq) else [inner]
        flat.extend(part.text for part in parts if isinstance(part, Scalar))
    return flat


def check_conda_env(path: Path, root: Node | None, problems: Problems) -> CondaEnv:
    data = _root(path, root, CONDA_KEYS, problems)
    for key, _ in data.pairs:
        if key.value not in CONDA_KEYS:
            problems.warn_at(
                key,
                f"unknown key '{key.text}' in {path.name}, ignored"
                f"{did_you_mean(str(key.value), CONDA_KEYS)}",
            )
    name = data.value("name")
    if name is not None and not (isinstance(name, Scalar) and isinstance(name.value, str)):
        problems.warn_at(name, f"`name` should be a string, not {kind_name(name)}")
    prefix = data.value("prefix")
    if prefix is not None and not (isinstance(prefix, Scalar) and isinstance(prefix.value, str)):
        problems.warn_at(prefix, f"`prefix` should be a path, not {kind_name(prefix)}")
    variables = data.value("variables")
    if variables is not None and not isinstance(variables, Map):
        problems.error_at(
            variables,
            f"`variables` must be a mapping of names to values, not {kind_name(variables)}",
        )
    dependencies, pip = _conda_dependencies(data.value("dependencies"), problems)
    return CondaEnv(
        name=name.text if isinstance(name, Scalar) and name.value is not None else None,
        channels=_strings(data.value("channels"), "channels", problems, "conda-forge"),
        dependencies=dependencies,
        pip=pip,
    )


def _conda_dependencies(
    node: Node | None, problems: Problems
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if node is None or (isinstance(node, Scalar) and node.value is None):
        return (), ()
    if not isinstance(node, Seq):
        problems.error_at(node, f"`dependencies` must be a list of packages, not {kind_name(node)}")
        return (), ()
    specs: list[str] = []
    pip: list[str] = []
    for item in node.items:
        if isinstance(item, Scalar) and isinstance(item.value, str):
            specs.append(item.value)
        elif isinstance(item, Map) and [k.value for k, _ in item.pairs] == ["pip"]:
            pip.extend(_strings(item.pairs[0][1], "pip", problems, "requests==2.32.3"))
        elif isinstance(item, Map):
            problems.error_at(item, "a mapping in `dependencies` can only be the `pip:` list")
        else:
            fix = f'; quote it: "{item.text}"' if isinstance(item, Scalar) else ""
            problems.error_at(
                item,
                f"entries of `dependencies` must be package specs such as "
                f"numpy>=1.26, not {kind_name(item)}{fix}",
            )
    return tuple(specs), tuple(pip)
