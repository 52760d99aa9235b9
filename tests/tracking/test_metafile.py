"""The fast meta.yaml reader agrees with PyYAML on everything the writer produces."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlproj.tracking.stores import metafile

keys = st.from_regex(r"[a-z_][a-z0-9_]{0,15}", fullmatch=True)
values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.text(max_size=40),
    st.sampled_from(["0", "007", "0x1f", "0b101", "1e5", "1.5", "true", "no", "null", "~",
                     "2024-01-02", "a: b", "# c", "- d", "'q'", '"q"', "", " lead", "trail ",
                     "0bc5aeb688364e3399914e1896745b4a", "4584a5d", "file:///tmp/a b/mlruns"]),
)  # fmt: skip


@pytest.mark.slow  # 300 generated documents
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=12))
def test_parse_meta_reads_what_dump_meta_wrote_like_pyyaml(data: dict[str, object]) -> None:
    text = metafile.dump_meta(data)
    assert metafile.parse_meta(text) == yaml.safe_load(text) == data


def test_typical_run_meta_takes_the_fast_path() -> None:
    text = metafile.dump_meta(
        {"artifact_uri": "file:///tmp/mlruns/1/0bc5aeb6/artifacts", "end_time": None,
         "experiment_id": "123456789012345678", "run_id": "0bc5aeb688364e3399914e1896745b4a",
         "run_name": "calm-heron-837", "source_type": 4, "status": 3, "tags": [], "user_id": "u"}
    )  # fmt: skip
    parsed = metafile.parse_flat(text)  # raises Unusual if it needed PyYAML
    assert parsed["experiment_id"] == "123456789012345678"
    assert parsed["run_id"] == "0bc5aeb688364e3399914e1896745b4a"
    assert parsed["tags"] == []


@pytest.mark.parametrize("text", ["a:\n  b: 1\n", "a: |\n  x\n", "a: [1, 2]\n", "a: 'x\n  y'\n"])
def test_nested_yaml_goes_to_pyyaml(text: str) -> None:
    with pytest.raises(metafile.Unusual):
        metafile.parse_flat(text)
    assert metafile.parse_meta(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["- a\n", "a: [\n", "just text\n"])
def test_a_meta_yaml_that_is_not_a_mapping_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"meta\.yaml"):
        metafile.parse_meta(text)
