"""Immutable records that cost nothing to define and import nothing.

A warm `mlproj run` defines about thirty records at import. A frozen dataclass generates and
compiles six methods through exec() for each (about 1 ms apiece on Python 3.11), and msgspec,
which avoids that, costs a quarter of a warm run's own start-up just to import (it pulls
typing_extensions, inspect, decimal, uuid). A `Record` is a class with `__slots__`, built by a
small metaclass from the class's annotations; every record shares one `__init__`, `__eq__`,
`__hash__` and `__repr__`, so defining one takes microseconds.

Semantics are a frozen dataclass's: fields in annotation order (a subclass's after its base's),
positional or keyword arguments, defaults and `field(default_factory=...)`, equality and hashing
over the fields (only records of the same class are equal), `replace()` and a shallow `asdict()`.
mypy reads records as frozen dataclasses through `dataclass_transform`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Callable[[type], type]:
        return lambda cls: cls  # only type checkers read it


T = TypeVar("T")
R = TypeVar("R", bound="Record")
_MISSING: Any = object()


class _Factory:
    """A default built afresh for each record (a dict, a list: never one shared object)."""

    __slots__ = ("make",)

    def __init__(self, make: Callable[[], object]) -> None:
        self.make = make


def field(*, default_factory: Callable[[], T]) -> T:
    """A field whose default is `default_factory()`, called for each new record."""
    return _Factory(default_factory)  # type: ignore[return-value]  # read by the metaclass


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class _RecordMeta(type):
    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _RecordMeta:
        fields: list[str] = []
        defaults: dict[str, Any] = {}
        for base in bases:
            for inherited in getattr(base, "__record_fields__", ()):
                if inherited not in fields:
                    fields.append(inherited)
            defaults.update(getattr(base, "__record_defaults__", {}))
        inherited = set(fields)
        own = [
            key
            for key, annotation in namespace.get("__annotations__", {}).items()
            if not _is_classvar(annotation)
        ]
        for key in own:
            if key not in fields:
                fields.append(key)
            if key in namespace:  # a class attribute would clash with the slot
                defaults[key] = namespace.pop(key)
        seen_default = ""
        for key in fields:
            if key in defaults:
                seen_default = key
            elif seen_default:
                raise TypeError(
                    f"{name}: field {key!r} has no default but follows {seen_default!r}, "
                    "which has one"
                )
        namespace["__slots__"] = tuple(key for key in own if key not in inherited)
        namespace["__match_args__"] = tuple(fields)
        cls = super().__new__(mcs, name, bases, namespace)
        cls.__record_fields__ = tuple(fields)  # type: ignore[attr-defined]
        cls.__record_defaults__ = defaults  # type: ignore[attr-defined]
        return cls


class Record(metaclass=_RecordMeta):
    """Base of an immutable record: annotate fields as on a dataclass."""

    __slots__ = ()
    __record_fields__: ClassVar[tuple[str, ...]]
    __record_defaults__: ClassVar[dict[str, Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        fields = cls.__record_fields__
        if len(args) > len(fields):
            raise TypeError(
                f"{cls.__name__}() takes {len(fields)} positional arguments, {len(args)} given"
            )
        values = dict(zip(fields, args, strict=False))  # the rest by keyword or default
        for key, value in kwargs.items():
            if key in values:
                raise TypeError(f"{cls.__name__}() got multiple values for {key!r}")
            if key not in fields:
                raise TypeError(f"{cls.__name__}() got an unexpected argument {key!r}")
            values[key] = value
        defaults = cls.__record_defaults__
        for key in fields:
            value = values.get(key, _MISSING)
            if value is _MISSING:
                value = defaults.get(key, _MISSING)
                if value is _MISSING:
                    raise TypeError(f"{cls.__name__}() missing required argument {key!r}")
                if isinstance(value, _Factory):
                    value = value.make()
            object.__setattr__(self, key, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, key) for key in self.__record_fields__)

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable: use record.replace()")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.__record_fields__)
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:  # pickle and copy
        return type(self), self._values()


def replace(record: R, **changes: Any) -> R:
    """A copy of `record` with some fields changed (as `dataclasses.replace`)."""
    unknown = set(changes) - set(record.__record_fields__)
    if unknown:
        raise TypeError(f"{type(record).__name__} has no field {sorted(unknown)[0]!r}")
    values = {key: getattr(record, key) for key in record.__record_fields__}
    return type(record)(**{**values, **changes})


def asdict(record: Record) -> dict[str, Any]:
    """The record's fields as a dict, one level deep (nested records stay records)."""
    return {key: getattr(record, key) for key in record.__record_fields__}
