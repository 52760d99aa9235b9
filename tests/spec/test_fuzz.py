"""Fuzzing the parser: whatever the bytes, the answer is a Project or an MlprojError."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlproj.errors import MlprojError
from mlproj.spec import describe_project, load_project, resolve_command, validate_path, yamltree
from mlproj.spec.model import Project
from mlproj.spec.schemas import schema_path
from tests.spec.corpus import PROJECTS

pytestmark = pytest.mark.slow  # each test checks hundreds of generated documents

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WORDS = [
    "name",
    "conda_env",
    "python_env",
    "docker_env",
    "entry_points",
    "main",
    "train",
    "parameters",
    "command",
    "type",
    "default",
    "image",
    "volumes",
    "environment",
    "gpus",
    "alpha",
    "float",
    "int",
    "bool",
    "path",
    "uri",
    "string",
    "str",
    "x-a",
    "echo {alpha}",
    "python t.py {alpha}",
    "{",
    "}",
    "None",
    "all",
    "conda.yaml",
    "",
]
SCALARS = st.one_of(
    st.sampled_from(WORDS),
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
DOCS = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(WORDS), inner, max_size=5)
    ),
    max_leaves=30,
)
CORPUS_TEXTS = [p.read_text() for p in sorted(PROJECTS.glob("*/[Mm][Ll][Pp]roject"))]


def _load(text: str | bytes) -> Project | None:
    """load_project on a fresh directory; None when it refused with an MlprojError."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp, "MLproject")
        spec.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "replace"))
        Path(tmp, "conda.yaml").write_text("dependencies: [python]\n")
        try:
            project = load_project(Path(tmp))
        except MlprojError as exc:
            assert exc.message and "\n" not in exc.one_line()
            return None
        json.dumps(describe_project(project))
        validate_path(Path(tmp))
        for name, ep in project.entry_points.items():
            with contextlib.suppress(MlprojError):
                resolve_command(project, name, {"alpha": "1"}, Path(tmp))
            assert isinstance(ep.command, str)
        return project


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _load(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _load(data)


@FUZZ
@given(st.sampled_from(CORPUS_TEXTS), st.data())
def test_mutated_corpus_files(text: str, data: st.DataObject) -> None:
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(chars)))
        new = data.draw(
            st.sampled_from(
                [" ", "\t", ":", "-", "{", "}", "[", "&a", "*a", "'", "\n", "#", "!!str ", ""]
            )
        )
        if data.draw(st.booleans()) and at < len(chars):
            chars[at] = new
        else:
            chars.insert(at, new)
    _load("".join(chars))


@FUZZ
@given(DOCS)
def test_structured_documents(doc: Any) -> None:
    text = yaml.safe_dump(doc)
    node = yamltree.parse(Path("f"), text)
    assert (None if node is None else yamltree.to_python(node)) == yaml.safe_load(text)
    _load(text)


MLPROJECT_SCHEMA = jsonschema.Draft202012Validator(json.loads(schema_path("mlproject").read_text()))
TYPES = st.sampled_from(
    [
        "string",
        "str",
        "float",
        "int",
        "integer",
        "bool",
        "boolean",
        "double",
        "number",
        "path",
        "uri",
        "flaot",
        "Float",
        "",
    ]
)
PARAM = st.one_of(
    TYPES,
    st.fixed_dictionaries(
        {}, optional={"type": TYPES, "default": st.one_of(SCALARS, st.just([1]))}
    ),
    SCALARS,
)
ENTRY_POINT = st.one_of(
    st.fixed_dictionaries(
        {
            "command": st.sampled_from(
                ["echo hi", "python t.py {alpha}", "echo {{x}}", "a {} b", "", "x }"]
            )
        },
        optional={
            "parameters": st.dictionaries(st.sampled_from(["alpha", "beta"]), PARAM),
            "comand": st.just("x"),
        },
    ),
    SCALARS,
)
DOCKER = st.one_of(
    st.fixed_dictionaries(
        {"image": st.sampled_from(["img", "", "a:1"])},
        optional={
            "volumes": st.one_of(st.lists(st.sampled_from(["/a:/b", "/c:/d"])), SCALARS),
            "environment": st.lists(
                st.one_of(st.sampled_from(["A", "B"]), st.lists(st.sampled_from(["N", "v"])))
            ),
            "gpus": st.sampled_from(["all", 0, 2, -1, "x"]),
        },
    ),
    SCALARS,
)
MLPROJECTS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=5), st.none(), st.integers()),
        "conda_env": st.sampled_from(["conda.yaml", "missing.yaml", ""]),
        "python_env": st.sampled_from(["python_env.yaml"]),
        "docker_env": DOCKER,
        "entry_points": st.one_of(
            st.dictionaries(st.sampled_from(["main", "b"]), ENTRY_POINT, max_size=2), SCALARS
        ),
        "version": st.just(1),
    },
)
# what a schema cannot know: files, placeholders, value types of defaults, docker names
SEMANTIC = (
    "placeholder",
    "stray brace",
    "does not exist",
    "no such file",
    "has no `name:`",
    "is not a whole number",
    "is not a number",
    "is not a boolean",
    "neither a URI",
    "is empty",
)


@FUZZ
@given(st.one_of(MLPROJECTS, DOCS))
def test_validate_agrees_with_the_schema(doc: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "MLproject").write_text(yaml.safe_dump(doc))
        Path(tmp, "conda.yaml").write_text("dependencies: [python]\n")
        Path(tmp, "python_env.yaml").write_text("python: '3.11'\n")
        problems = validate_path(Path(tmp), strict=True)
    if not problems:
        assert MLPROJECT_SCHEMA.is_valid(doc), doc
    elif MLPROJECT_SCHEMA.is_valid(doc):
        others = [p.message for p in problems if not any(w in p.message for w in SEMANTIC)]
        assert not others, (doc, others)
