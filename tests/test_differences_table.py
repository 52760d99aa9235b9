"""The README's "Differences from `mlflow run`" table: every row names a test that exists."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT


def test_every_difference_names_an_existing_test() -> None:
    text = (REPO_ROOT / "README.md").read_text()
    table = text.split("\n## Differences from `mlflow run`", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 11, rows  # the header and ten differences
    for row in rows[1:]:
        tests = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", row)
        assert tests, f"no test named in: {row}"
        for path, name in tests:
            assert f"def {name}(" in (REPO_ROOT / path).read_text(), f"{path}::{name}"
