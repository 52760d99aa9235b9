"""`.mlprojignore` matching gives fnmatch's answers, also where it skips fnmatch."""

from __future__ import annotations

import fnmatch

from hypothesis import given
from hypothesis import strategies as st

from mlproj.sources.snapshot import ALWAYS_IGNORED, is_ignored

NAME = st.text(alphabet="ab.*?[]!-_/", max_size=8)


@given(name=NAME, pattern=NAME)
def test_a_pattern_matches_a_name_as_fnmatch_does(name: str, pattern: str) -> None:
    pattern = pattern.strip("/")
    name = name.replace("/", "")
    if not pattern or "/" in pattern:
        return
    assert is_ignored(name, [pattern]) == fnmatch.fnmatchcase(name, pattern)


def test_the_always_ignored_names_and_suffixes() -> None:
    for rel in (".git/config", "src/__pycache__/m.cpython-311.pyc", "a/b.pyc", "mlruns/0/x"):
        assert is_ignored(rel, ALWAYS_IGNORED), rel
    for rel in ("src/pyc", "a.pyc.txt", "git/x", "mlruns.py", "my.venv/x"):
        assert not is_ignored(rel, ALWAYS_IGNORED), rel
