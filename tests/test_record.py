"""mlproj._util.record: the frozen-dataclass semantics the code relies on, without dataclasses."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from typing import ClassVar

import pytest

from mlproj._util.record import Record, asdict, field, replace


class Frozen(dict[str, str]):
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items())))


class Point(Record):
    x: int
    y: int = 0
    tags: Mapping[str, str] = field(default_factory=dict)
    LIMIT: ClassVar[int] = 10  # a class constant, not a field


class Labelled(Point):
    label: str = "here"


def test_positional_keyword_and_default_arguments() -> None:
    assert Point(1, 2) == Point(x=1, y=2) == Point(1, y=2)
    assert Point(1).y == 0
    assert Point(1).tags == {}
    assert Point.LIMIT == 10


def test_default_factories_build_a_fresh_object_for_each_record() -> None:
    first, second = Point(1), Point(2)
    assert first.tags is not second.tags


def test_wrong_arguments_are_refused_like_a_dataclass() -> None:
    with pytest.raises(TypeError, match="missing required argument 'x'"):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected argument 'z'"):
        Point(1, z=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for 'x'"):
        Point(1, x=2)  # type: ignore[misc]
    with pytest.raises(TypeError, match="takes 3 positional arguments, 4 given"):
        Point(1, 2, {}, 4)  # type: ignore[call-arg]


def test_a_field_without_default_after_one_with_is_refused_at_definition() -> None:
    with pytest.raises(TypeError, match="'b' has no default but follows 'a'"):

        class Bad(Record):
            a: int = 1
            b: int  # type: ignore[misc]


def test_records_are_immutable() -> None:
    point = Point(1)
    with pytest.raises(AttributeError, match="Point is immutable"):
        point.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError, match="Point is immutable"):
        del point.x
    with pytest.raises(AttributeError):
        point.other = 3
    assert point.x == 1


def test_equality_and_hash_follow_the_fields_and_the_class() -> None:
    assert Point(1, 2) != Point(1, 3)
    assert Point(1) != Labelled(1)  # a subclass with the same values is another record
    assert Point(1) != (1, 0, {})
    frozen_tags: Mapping[str, str] = Frozen({"a": "b"})
    assert (
        len({Point(1, 2, frozen_tags), Point(1, 2, Frozen({"a": "b"})), Point(1, 3, frozen_tags)})
        == 2
    )
    with pytest.raises(TypeError, match="unhashable"):
        hash(Point(1))  # a dict field, as with a frozen dataclass


def test_a_subclass_adds_its_fields_after_its_bases() -> None:
    labelled = Labelled(1, 2, {}, "there")
    assert (labelled.x, labelled.y, labelled.label) == (1, 2, "there")
    assert Labelled.__match_args__ == ("x", "y", "tags", "label")
    assert repr(Labelled(1)) == "Labelled(x=1, y=0, tags={}, label='here')"


def test_replace_copies_with_changes_and_refuses_unknown_fields() -> None:
    point = Labelled(1, label="a")
    moved = replace(point, y=5)
    assert moved == Labelled(1, 5, label="a") and point.y == 0
    assert type(moved) is Labelled
    with pytest.raises(TypeError, match="Labelled has no field 'z'"):
        replace(point, z=1)


def test_asdict_is_one_level_deep() -> None:
    inner = Point(1)
    outer = Labelled(2, tags={"k": "v"})
    assert asdict(outer) == {"x": 2, "y": 0, "tags": {"k": "v"}, "label": "here"}

    class Box(Record):
        point: Point

    assert asdict(Box(inner)) == {"point": inner}


def test_pickle_and_copy_give_equal_records() -> None:
    point = Labelled(1, 2, {"a": "b"}, "c")
    assert pickle.loads(pickle.dumps(point)) == point
    assert copy.copy(point) == point
    deep = copy.deepcopy(point)
    assert deep == point and deep.tags is not point.tags


def test_pattern_matching_by_position() -> None:
    match Point(3, 4):
        case Point(x, y):
            assert (x, y) == (3, 4)
        case _:
            pytest.fail("a record matches its class pattern by position")
