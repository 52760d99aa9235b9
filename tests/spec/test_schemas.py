"""schemas/*.json are valid draft 2020-12 schemas and agree with what mlproj checks."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlproj.spec.envfiles import check_conda_env, check_python_env
from mlproj.spec.problems import Problems
from mlproj.spec.schemas import SCHEMA_DIR, SCHEMAS, schema_path
from mlproj.spec.yamltree import parse
from tests.spec.corpus import PROJECTS
from tests.spec.test_validate import CASES as VALIDATE_CASES


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(schema_path(kind).read_text()))


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_schemas_are_valid_draft_2020_12(kind: str) -> None:
    schema = json.loads(schema_path(kind).read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schemas_ship_inside_the_package() -> None:
    package_dir = Path(__file__).resolve().parents[2] / "mlproj" / "schemas"
    assert package_dir.is_symlink() and package_dir.resolve() == SCHEMA_DIR.resolve()
    assert sorted(p.name for p in package_dir.glob("*.json")) == sorted(
        p.name for p in SCHEMAS.values()
    )


def _corpus(pattern: str) -> list[Path]:
    return sorted(PROJECTS.glob(pattern))


@pytest.mark.parametrize("file", _corpus("*/[Mm][Ll][Pp]roject"), ids=lambda p: p.parent.name)
def test_corpus_mlprojects_match_the_schema(file: Path) -> None:
    _validator("mlproject").validate(yaml.safe_load(file.read_text()))


@pytest.mark.parametrize("file", _corpus("**/conda.y*ml"), ids=lambda p: p.parent.name)
def test_corpus_conda_files_match_the_schema(file: Path) -> None:
    _validator("conda").validate(yaml.safe_load(file.read_text()))


@pytest.mark.parametrize("file", _corpus("*/python_env.yaml"), ids=lambda p: p.parent.name)
def test_corpus_python_env_files_match_the_schema(file: Path) -> None:
    _validator("python_env").validate(yaml.safe_load(file.read_text()))


# the validate cases whose errors are about shapes, which a schema can see too
SHAPE_CASES = [
    case
    for case in VALIDATE_CASES
    if any(e[0] == "MLproject" and e[3] == "error" for e in case[2])
    and not any(
        w in e[4]
        for e in case[2]
        for w in ("Project specified", "placeholder", "stray", "YAML", "LFS")
    )
]


@pytest.mark.parametrize("files", [c[1] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_shapes_validate_refuses_the_schema_refuses(files: dict[str, Any]) -> None:
    assert not _validator("mlproject").is_valid(yaml.safe_load(files["MLproject"]))


ITEMS = st.one_of(
    st.sampled_from(["numpy", "pip", "python=3.11", "-r req.txt", ""]),
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
)
LISTS = st.one_of(st.lists(ITEMS, max_size=3), ITEMS)
PIP = st.dictionaries(st.sampled_from(["pip", "other"]), LISTS, min_size=1, max_size=2)
CONDA = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "name": ITEMS,
            "channels": LISTS,
            "prefix": ITEMS,
            "dependencies": st.one_of(st.lists(st.one_of(ITEMS, PIP), max_size=4), ITEMS),
            "variables": st.one_of(st.dictionaries(st.just("A"), ITEMS), ITEMS),
            "chanels": st.just([]),
        },
    ),
    ITEMS,
)
PYTHON_ENV = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "python": ITEMS,
            "build_dependencies": LISTS,
            "dependencies": LISTS,
            "extra": st.just(1),
        },
    ),
    ITEMS,
)


def _clean(kind: str, doc: Any) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "env.yaml")
        text = yaml.safe_dump(doc)
        problems = Problems(path)
        root = parse(path, text, problems)
        (check_conda_env if kind == "conda" else check_python_env)(path, root, problems)
        return not problems.items


@pytest.mark.slow  # 300 generated documents
@settings(max_examples=300, deadline=None)
@given(CONDA)
def test_conda_checks_agree_with_the_schema(doc: Any) -> None:
    assert _clean("conda", doc) == _validator("conda").is_valid(doc), doc


@pytest.mark.slow  # 300 generated documents
@settings(max_examples=300, deadline=None)
@given(PYTHON_ENV)
def test_python_env_checks_agree_with_the_schema(doc: Any) -> None:
    assert _clean("python_env", doc) == _validator("python_env").is_valid(doc), doc
