"""The `--filter` and `--sort` language of `mlproj runs list`.

    params.lr > 0.01 and status = 'FINISHED' and tags.`mlflow.user` LIKE 'ann%'

A filter is conditions joined by `and`. A field is `params.KEY`, `metrics.KEY`, `tags.KEY`,
`attributes.NAME` or a bare attribute (`status`, `run_name`, `run_id`, `user_id`,
`start_time`, `end_time`, `experiment_id`). Keys with dots or spaces may be quoted with
backticks or quotes. Operators: = != < <= > >= LIKE ILIKE NOT LIKE. An unquoted number
compares numerically (a param "0.010" equals 0.01); a quoted value compares as text. A run
that lacks the field does not match. Everything is evaluated here, the same way for every
store.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from mlproj.errors import UsageError
from mlproj.tracking.base import Run

Kind = Literal["param", "metric", "tag", "attr"]
Value = str | float

_PREFIXES: dict[str, Kind] = {
    "params": "param",
    "param": "param",
    "metrics": "metric",
    "metric": "metric",
    "tags": "tag",
    "tag": "tag",
    "attributes": "attr",
    "attribute": "attr",
    "attr": "attr",
    "run": "attr",
}
ATTRIBUTES = (
    "status",
    "run_name",
    "run_id",
    "user_id",
    "start_time",
    "end_time",
    "experiment_id",
    "artifact_uri",
)
_ATTR_ALIASES = {"name": "run_name", "id": "run_id", "user": "user_id"}
_NUMERIC_ATTRS = frozenset({"start_time", "end_time"})

_HINT = (
    "write conditions like params.lr > 0.01, metrics.acc >= 0.9, tags.team = 'nlp', "
    "status = 'FINISHED', run_name LIKE 'base%', joined by 'and'"
)
_WS = re.compile(r"\s*")
_FIELD = re.compile(
    r"(?P<head>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:\.(?P<key>`[^`]*`|\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\-/:]+))?"
)
_OP = re.compile(r"(<=|>=|!=|<>|==|=|<|>|(?i:not\s+like|ilike|like)\b)")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
_STRING = re.compile(r"'((?:[^'\\]|\\.|'')*)'|\"((?:[^\"\\]|\\.)*)\"")
_BARE = re.compile(r"[A-Za-z0-9_.\-/:%]+")
_AND = re.compile(r"(?i:and)\b")
_OR = re.compile(r"(?i:or)\b")


class FilterError(UsageError):
    """A --filter or --sort expression that cannot be parsed."""


@dataclass(frozen=True)
class Field:
    kind: Kind
    key: str

    @property
    def label(self) -> str:
        if self.kind == "attr":
            return self.key
        key = f"`{self.key}`" if re.search(r"[\s`'\"=<>!]", self.key) else self.key
        return f"{self.kind}s.{key}"


@dataclass(frozen=True)
class Condition:
    field: Field
    op: str  # = != < <= > >= LIKE ILIKE NOT LIKE
    value: Value
    text: str  # the value as written, for LIKE on numbers

    def matches(self, run: Run) -> bool:
        raw = field_value(run, self.field)
        if raw is None:
            return False
        if self.op in ("LIKE", "ILIKE", "NOT LIKE"):
            found = _like(self.text, self.op == "ILIKE").fullmatch(_text(raw)) is not None
            return found != (self.op == "NOT LIKE")
        if isinstance(self.value, float):
            number = _number(raw)
            return number is not None and _compare(number, self.op, self.value)
        left, right = _text(raw), self.value
        if self.field == Field("attr", "status"):
            left, right = left.upper(), right.upper()
        return _compare(left, self.op, right)


@dataclass(frozen=True)
class Filter:
    conditions: tuple[Condition, ...] = ()

    def matches(self, run: Run) -> bool:
        return all(c.matches(run) for c in self.conditions)

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(c.field for c in self.conditions)


@dataclass(frozen=True)
class SortKey:
    field: Field
    descending: bool = False


def field_value(run: Run, field: Field) -> str | float | None:
    """The value of a field in a run: text for params/tags/most attributes, a float for
    metrics and times; None when the run does not have it."""
    if field.kind == "param":
        return run.params.get(field.key)
    if field.kind == "tag":
        return run.tags.get(field.key)
    if field.kind == "metric":
        return run.metrics.get(field.key)
    value = getattr(run.info, field.key)
    if value is None:
        return None
    return float(value) if field.key in _NUMERIC_ATTRS else str(value)


def _text(value: str | float) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _number(value: str | float) -> float | None:
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except ValueError:
        return None


def _compare(left: Value, op: str, right: Value) -> bool:
    if isinstance(left, float) and math.isnan(left):
        return op in ("!=", "<>")
    if op in ("=", "=="):
        return left == right
    if op in ("!=", "<>"):
        return left != right
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    if op == ">":
        return left > right  # type: ignore[operator]
    return left >= right  # type: ignore[operator]


def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """SQL LIKE: % is any run of characters, _ is one character."""
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _unquote(token: str) -> str:
    if token[:1] in "`'\"" and len(token) >= 2 and token[-1] == token[0]:
        return token[1:-1]
    return token


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text, self.what, self.pos = text, what, 0

    def fail(self, expected: str) -> FilterError:
        rest = self.text[self.pos :]
        found = f"{rest[:20]!r}" if rest else "the end"
        return FilterError(
            f"bad {self.what} {self.text!r}: expected {expected} at column {self.pos + 1}, "
            f"found {found}",
            hint=_HINT,
        )

    def skip(self) -> None:
        match = _WS.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        self.skip()
        match = pattern.match(self.text, self.pos)
        if match:
            self.pos = match.end()
        return match

    def at_end(self) -> bool:
        self.skip()
        return self.pos >= len(self.text)

    def field(self) -> Field:
        self.skip()
        start = self.pos
        match = self.take(_FIELD)
        if match is None:
            raise self.fail("a field such as params.lr, metrics.acc, tags.x or status")
        head, key = match.group("head"), match.group("key")
        if key is None:
            name = _ATTR_ALIASES.get(head.lower(), head.lower())
            if name in ATTRIBUTES:
                return Field("attr", name)
            self.pos = start
            raise self.fail(f"params.{head}, metrics.{head}, tags.{head} or an attribute")
        kind = _PREFIXES.get(head.lower())
        if kind is None:
            self.pos = start
            raise self.fail("params., metrics., tags. or attributes. before the key")
        key = _unquote(key)
        if kind == "attr":
            name = _ATTR_ALIASES.get(key.lower(), key.lower())
            if name not in ATTRIBUTES:
                self.pos = start
                raise self.fail("one of the attributes " + ", ".join(ATTRIBUTES))
            return Field("attr", name)
        if not key:
            self.pos = start
            raise self.fail("a non-empty key")
        return Field(kind, key)

    def condition(self) -> Condition:
        field = self.field()
        op_match = self.take(_OP)
        if op_match is None:
            raise self.fail(f"a comparison (= != < <= > >= LIKE) after {field.label}")
        op = " ".join(op_match.group(0).upper().split())
        self.skip()
        value_start = self.pos
        value, text = self.value()
        numeric_field = field.kind == "metric" or field.key in _NUMERIC_ATTRS
        if "LIKE" in op and numeric_field:
            self.pos = value_start
            raise self.fail(f"a numeric comparison: {field.label} is a number, LIKE needs text")
        if numeric_field and not isinstance(value, float):
            self.pos = value_start
            raise self.fail(f"a number to compare {field.label} with")
        return Condition(field, op, value, text)

    def value(self) -> tuple[Value, str]:
        self.skip()
        match = _STRING.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            if match.group(1) is not None:
                raw = match.group(1).replace("''", "'")
            else:
                raw = match.group(2)
            text = re.sub(r"\\(.)", r"\1", raw)
            return text, text
        match = self.take(_NUMBER)
        if match:
            return float(match.group(0)), match.group(0)
        match = self.take(_BARE)
        if match and not _AND.fullmatch(match.group(0)):
            return match.group(0), match.group(0)
        raise self.fail("a value: a number or a quoted string")


def parse_filter(text: str | None) -> Filter:
    """Parse a filter expression; an empty or missing one matches every run."""
    if text is None or not text.strip():
        return Filter()
    parser = _Parser(text, "filter")
    conditions = [parser.condition()]
    while not parser.at_end():
        if parser.take(_OR):
            parser.pos -= 2
            raise parser.fail("'and' ('or' is not supported: run one query per alternative)")
        if parser.take(_AND) is None:
            raise parser.fail("'and' or the end of the filter")
        conditions.append(parser.condition())
    return Filter(tuple(conditions))


def parse_sort(text: str) -> SortKey:
    """`metrics.acc` (ascending), `-metrics.acc` or `metrics.acc DESC` (descending)."""
    stripped = text.strip()
    descending = stripped.startswith("-")
    parser = _Parser(stripped[1:] if descending else stripped, "sort key")
    field = parser.field()
    direction = parser.take(re.compile(r"(?i:asc|desc)\b"))
    if direction is not None:
        descending = direction.group(0).lower() == "desc"
    if not parser.at_end():
        raise parser.fail("the end of the sort key (optionally ASC or DESC)")
    return SortKey(field, descending)


def _sort_values(runs: Sequence[Run], field: Field) -> list[str | float | None]:
    """Each run's value for the key; text turns into numbers when every value is a number."""
    values = [field_value(r, field) for r in runs]
    numbers = [_number(v) if v is not None else None for v in values]
    if all(n is not None for n, v in zip(numbers, values, strict=True) if v is not None):
        return list(numbers)
    return [_text(v) if v is not None else None for v in values]


def sort_runs(runs: Iterable[Run], keys: Sequence[SortKey]) -> list[Run]:
    """Stable multi-key sort; runs without a value come last in either direction."""
    ordered = list(runs)
    for key in reversed(keys):
        values = _sort_values(ordered, key.field)
        present = [(v, r) for v, r in zip(values, ordered, strict=True) if v is not None]
        missing = [r for v, r in zip(values, ordered, strict=True) if v is None]
        present.sort(key=lambda pair: _order(pair[0]), reverse=key.descending)
        ordered = [r for _, r in present] + missing
    return ordered


def _order(value: str | float | None) -> tuple[int, str | float]:
    # NaN sorts after every number, in the same direction rules as a large value.
    if isinstance(value, float) and math.isnan(value):
        return (1, 0.0)
    return (0, value if value is not None else "")


DEFAULT_SORT = (SortKey(Field("attr", "start_time"), descending=True),)


def select_runs(
    runs: Iterable[Run], flt: Filter, keys: Sequence[SortKey], limit: int | None
) -> tuple[list[Run], int]:
    """Filter, sort (newest first by default) and cut; also return how many matched."""
    matched = [r for r in runs if flt.matches(r)]
    ordered = sort_runs(matched, keys or DEFAULT_SORT)
    return (ordered[:limit] if limit else ordered), len(matched)
