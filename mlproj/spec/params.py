"""Parameter types and command templates: what a value must look like, what a command names."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from urllib.parse import unquote, urlparse

from mlproj.spec.model import ParamKind
from mlproj.spec.problems import did_you_mean

try:  # the function string.Formatter().parse calls: importing `string` costs every run more
    from _string import formatter_parser as _parse_template  # type: ignore[import-not-found]
except ImportError:  # not CPython
    from string import Formatter

    _parse_template = Formatter().parse

# The types MLflow documents and uses, and the aliases people write for them.
TYPE_ALIASES: dict[str, ParamKind] = {
    "string": "string",
    "str": "string",
    "float": "float",
    "double": "float",
    "number": "float",
    "int": "int",
    "integer": "int",
    "bool": "bool",
    "boolean": "bool",
    "path": "path",
    "uri": "uri",
}
CANONICAL_TYPES = ("string", "float", "int", "bool", "path", "uri")
BOOL_WORDS = {"true", "false", "1", "0", "yes", "no"}


def kind_of(type_name: str) -> ParamKind | None:
    """The canonical type for a type as written, or None when it is unknown."""
    return TYPE_ALIASES.get(type_name)


def unknown_type_message(type_name: str) -> str:
    return (
        f"unknown parameter type '{type_name}', treated as string"
        f"{did_you_mean(type_name, TYPE_ALIASES)}"
        f" (types: {', '.join(CANONICAL_TYPES)})"
    )


def value_problem(kind: ParamKind, value: str) -> str | None:
    """Why `value` is not a valid `kind` (None when it is). Paths are checked elsewhere."""
    if kind == "float":
        try:
            float(value)
        except ValueError:
            return "not a number"
    elif kind == "int":
        try:
            int(value, 10)
        except ValueError:
            return "not a whole number"
    elif kind == "bool":
        if value.strip().lower() not in BOOL_WORDS:
            return "not a boolean (use true/false, 1/0 or yes/no)"
    elif kind == "uri" and not (urlparse(value).scheme or os.path.isabs(value)):
        return "neither a URI (scheme://...) nor an absolute path"
    return None


def local_path(value: str) -> str | None:
    """The local path a `path` value names (plain or file:///), None for a remote URI."""
    parsed = urlparse(value)
    if not parsed.scheme:
        return value
    if parsed.scheme == "file" and not parsed.netloc:
        return unquote(parsed.path)  # as url2pathname does on POSIX
    return None


# -- command templates ----------------------------------------------------------------------


def _fields(template: str) -> Iterator[str]:
    """Every replacement field name in a str.format template, nested format specs included."""
    for _, name, spec, _ in _parse_template(template):
        if name is not None:
            yield name
        if spec:
            yield from _fields(spec)


def _base_name(field: str) -> str:
    # "a.b" and "a[0]" both look up "a" first
    return field.split(".", 1)[0].split("[", 1)[0]


def template_problems(command: str, declared: Iterable[str]) -> list[str]:
    """What keeps `command.format(**params)` from working, in words (empty when it works)."""
    names = list(declared)
    try:
        fields = list(_fields(command))
    except ValueError as exc:
        return [f"stray brace in the command ({exc}); write {{{{ and }}}} for a literal {{ or }}"]
    problems = [_field_problem(command, field, names) for field in fields]
    found = [p for p in problems if p]
    if found:
        return list(dict.fromkeys(found))
    try:
        command.format(**{name: "'x'" for name in names})
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as exc:
        return [f"the command cannot be formatted: {type(exc).__name__}: {exc}"]
    return []


def _field_problem(command: str, field: str, names: list[str]) -> str | None:
    base = _base_name(field)
    if base == "" or base.isdigit():
        return (
            f"placeholder {{{field}}} is positional, but parameters are passed by name; "
            f"write {{{{{field}}}}} for literal braces"
        )
    if base in names:
        return None
    message = f"placeholder {{{field}}} names no declared parameter"
    if f"${{{field}}}" in command:
        return message + f"; for the shell variable write ${{{{{field}}}}}"
    suggestion = did_you_mean(base, names)
    return message + (suggestion or f"; declare it under parameters, or write {{{{{field}}}}}")


def render(command: str, values: dict[str, str]) -> str:
    """command.format(**values); callers check template_problems first."""
    return command.format(**values)
