"""meta.yaml files of MLflow's file store: a fast reader for the flat form MLflow writes, and a
writer that produces the same bytes as MLflow (PyYAML safe dump, keys sorted).

`mlproj runs list` reads one meta.yaml per run; PyYAML's loader costs ~100 µs a file, which is
most of the time budget, so the flat `key: value` form is parsed here and anything unusual
falls back to PyYAML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

MetaValue = Any  # str | int | None | list[object]: whatever YAML gives back

# Plain scalars that YAML would read as something other than a string (bools, floats, dates,
# merge keys, ...): left to PyYAML so that the result always matches a real YAML reader.
_YAML_WORDS = frozenset(
    {"yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE"}
    | {"on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~", "=", "<<"}
)
_READ_SIZE = 1 << 16
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)\Z")
_SAFE_PLAIN = re.compile(r"[A-Za-z_/][^#'\"\t]*\Z")
# Letters and digits starting with a digit (run ids like 4584...a5d) are strings to YAML,
# unless all digits (ints, octal) or a whole hex or binary int (0x1f, 0b101).
_DIGIT_WORD = re.compile(r"(?![0-9]*\Z)(?!0x[0-9a-fA-F]+\Z)(?!0b[01]+\Z)[0-9][0-9A-Za-z]*\Z")


class Unusual(Exception):
    """The text is not the flat form this module parses; use PyYAML."""


def _scalar(text: str) -> MetaValue:
    if text == "" or text in ("null", "~"):
        return None
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'" or "'" in text[1:-1].replace("''", ""):
            raise Unusual(text)
        return text[1:-1].replace("''", "'")
    if text == "[]":
        return []
    if _INT.match(text):
        return int(text)
    if _DIGIT_WORD.match(text):
        return text
    if text in _YAML_WORDS or not _SAFE_PLAIN.match(text) or text.endswith(":"):
        raise Unusual(text)
    if ": " in text or text.endswith(" "):
        raise Unusual(text)
    return text


def parse_flat(text: str) -> dict[str, MetaValue]:
    """Parse `key: value` lines; raise Unusual for anything else (nesting, block scalars, ...)."""
    result: dict[str, MetaValue] = {}
    for line in text.splitlines():
        if not line or line[0] in " \t#-":
            raise Unusual(line)
        key, sep, rest = line.partition(":")
        if not sep or (rest and rest[0] != " ") or not key.isidentifier():
            raise Unusual(line)
        result[key] = _scalar(rest[1:])
    return result


def parse_meta(text: str) -> dict[str, MetaValue]:
    """Parse a meta.yaml text: the fast path, else PyYAML (C loader when available).
    ValueError when it is not a YAML mapping."""
    try:
        return parse_flat(text)
    except Unusual:
        pass
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # a safe loader
    except yaml.YAMLError as exc:
        raise ValueError(f"meta.yaml is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("meta.yaml is not a mapping")
    return {str(k): v for k, v in data.items()}


def dump_meta(data: Mapping[str, MetaValue]) -> str:
    """The YAML text MLflow writes for `data` (block style, keys sorted, unicode kept)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text: str = yaml.dump(
        dict(data), default_flow_style=False, allow_unicode=True, sort_keys=True, Dumper=dumper
    )
    return text


def read_text(path: str) -> str:
    """A whole small file as text, with plain os calls (cheaper than open() for many files)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) == _READ_SIZE:  # a big file: read the rest
            chunks = [data]
            while chunk := os.read(fd, _READ_SIZE):
                chunks.append(chunk)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    return data.decode("utf-8")
