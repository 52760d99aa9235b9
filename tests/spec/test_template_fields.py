"""Command templates are parsed by the function `string.Formatter().parse` calls, without
importing `string`: the fields found, and the templates refused, are Formatter's."""

from __future__ import annotations

from string import Formatter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlproj.spec.params import _fields, template_problems

TEMPLATE = st.text(alphabet="ab {}[].:!0rs", max_size=24)


def formatter_fields(template: str) -> list[str]:
    found = []
    for _, name, spec, _ in Formatter().parse(template):
        if name is not None:
            found.append(name)
        if spec:
            found.extend(formatter_fields(spec))
    return found


@given(template=TEMPLATE)
def test_the_fields_are_formatters(template: str) -> None:
    try:
        expected = formatter_fields(template)
    except ValueError:
        with pytest.raises(ValueError):
            list(_fields(template))
    else:
        assert list(_fields(template)) == expected


def test_a_template_names_its_parameters() -> None:
    assert list(_fields("python t.py {a} {b.c} {d[0]:{w}} {{x}}")) == ["a", "b.c", "d[0]", "w"]
    assert template_problems("python t.py {a}", ["a"]) == []
    assert template_problems("python t.py {a", ["a"]) != []
